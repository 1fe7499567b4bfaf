import { Router } from 'express';
import { requireApiKey } from './require-api-key.ts';
import { addRoute } from './add-route.ts';
import type { SandboxContext } from './sandbox-context.ts';

/** GET /v1/autoScribe/users/{userId} (§9.6). */
export function userRoutes(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireApiKey(ctx.apiKey);
  addRoute(router, ctx.faults, 'get', '/v1/autoScribe/users/{userId}', auth, (req, res) => {
    const user = ctx.state.users.get(String(req.params['userId']));
    if (!user) return void res.status(404).json({ message: 'User not found' });
    res.json(user);
  });
  return router;
}
