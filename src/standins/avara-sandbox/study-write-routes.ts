import { json, Router } from 'express';
import { describeBodyIssue, StudyCreateBodySchema, StudyPatchBodySchema } from '../../avara/study-write-schemas.ts';
import { addRoute } from './add-route.ts';
import { applyStudyPatch } from './create-study-record.ts';
import { requireApiKey } from './require-api-key.ts';
import type { SandboxContext } from './sandbox-context.ts';

/** §9.1 create and PATCH, validated as documented: 400 `{message}` naming the field. */
export function studyWriteRoutes(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireApiKey(ctx.apiKey);
  addRoute(router, ctx.faults, 'post', '/v1/autoScribe/studies', auth, json({ limit: '5mb' }), (req, res) => {
    const body = StudyCreateBodySchema.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ message: describeBodyIssue(body.error) });
    const study = ctx.state.createStudy(body.data);
    if (!study) return void res.status(409).json({ message: 'studyInstanceUid: a study with this UID already exists' });
    ctx.onStudyCreated(study);
    res.status(201).json(study);
  });
  addRoute(router, ctx.faults, 'patch', '/v1/autoScribe/studies/{studyId}', auth, json({ limit: '5mb' }), (req, res) => {
    const study = ctx.state.studies.get(String(req.params['studyId']));
    if (!study) return void res.status(404).json({ message: 'Study not found' });
    const body = StudyPatchBodySchema.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ message: describeBodyIssue(body.error) });
    applyStudyPatch(study, body.data, ctx.now());
    res.json(study);
  });
  return router;
}
