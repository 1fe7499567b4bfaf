import { json, Router } from 'express';
import { describeBodyIssue, ViewerStudyCreateBodySchema } from '../../avara/study-write-schemas.ts';
import { addRoute } from './add-route.ts';
import { requireApiKey } from './require-api-key.ts';
import type { SandboxContext } from './sandbox-context.ts';
import { isoSeconds, type SandboxViewerStudy } from './sandbox-types.ts';

/** §9.7 Viewer study create and by-uid lookup; one Viewer study per UID, like the AutoScribe tree. */
export function viewerRoutes(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireApiKey(ctx.apiKey);
  const byUid = (uid: string) => [...ctx.state.viewerStudies.values()].find((s) => s.studyInstanceUid === uid);
  addRoute(router, ctx.faults, 'post', '/v1/viewer/studies', auth, json(), (req, res) => {
    const body = ViewerStudyCreateBodySchema.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ message: describeBodyIssue(body.error) });
    if (byUid(body.data.studyInstanceUid)) return void res.status(409).json({ message: 'studyInstanceUid: a viewer study with this UID already exists' });
    const at = isoSeconds(ctx.now());
    const { assignedTo: _assignee, expressCustomerId: _customer, ...fields } = body.data;
    const study: SandboxViewerStudy = {
      ...fields, studyId: `stu_${randomHex()}`, studyViewerStatus: 'incomplete', isCancelled: false, cancelledAt: null, createdAt: at, updatedAt: at,
    };
    ctx.state.viewerStudies.set(study.studyId, study);
    res.status(201).json(study);
  });
  addRoute(router, ctx.faults, 'get', '/v1/viewer/studies/by-uid/{studyInstanceUid}', auth, (req, res) => {
    const study = byUid(String(req.params['studyInstanceUid']));
    if (!study) return void res.status(404).json({ message: 'Study not found' });
    res.json(study);
  });
  return router;
}

function randomHex(): string {
  return globalThis.crypto.randomUUID().replace(/-/g, '');
}
