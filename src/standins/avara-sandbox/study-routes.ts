import { json, Router, type Response } from 'express';
import { requireApiKey } from './require-api-key.ts';
import { addRoute } from './add-route.ts';
import { listStudiesPage } from './list-studies-page.ts';
import type { SandboxContext } from './sandbox-context.ts';
import { isoSeconds, type SandboxStudy } from './sandbox-types.ts';

/** §6.1-6.3 and the cancel/uncancel verbs of §9.1. */
export function studyRoutes(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireApiKey(ctx.apiKey);
  const studies = (): SandboxStudy[] => [...ctx.state.studies.values()];
  addRoute(router, ctx.faults, 'get', '/v1/autoScribe/studies', auth, (req, res) => {
    const result = listStudiesPage(studies(), new URL(req.originalUrl, 'http://sandbox.invalid').searchParams, ctx.pageChaos.enabled);
    if (!result.ok) return void res.status(400).json({ message: result.message });
    res.json(result.page);
  });
  addRoute(router, ctx.faults, 'get', '/v1/autoScribe/studies/by-uid/{studyInstanceUid}', auth, (req, res) => {
    const study = studies().find((s) => s.studyInstanceUid === req.params['studyInstanceUid']);
    sendStudy(res, study);
  });
  addRoute(router, ctx.faults, 'get', '/v1/autoScribe/studies/{studyId}', auth, (req, res) => {
    sendStudy(res, ctx.state.studies.get(String(req.params['studyId'])));
  });
  for (const verb of ['cancel', 'uncancel'] as const) {
    addRoute(router, ctx.faults, 'post', `/v1/autoScribe/studies/${verb}`, auth, json(), (req, res) => {
      const body = (req.body ?? {}) as { studyId?: unknown; studyInstanceUid?: unknown };
      const study = studies().find((s) => s.studyId === body.studyId || s.studyInstanceUid === body.studyInstanceUid);
      if (!study) return void res.status(404).json({ message: 'Study not found' });
      const at = isoSeconds(ctx.now());
      Object.assign(study, { isCancelled: verb === 'cancel', cancelledAt: verb === 'cancel' ? at : null, updatedAt: at });
      res.json({ success: true });
    });
  }
  return router;
}

function sendStudy(res: Response, study: SandboxStudy | undefined): void {
  if (!study) res.status(404).json({ message: 'Study not found' });
  else res.json(study);
}
