import type { StudyCreateBody } from '../avara/study-write-schemas.ts';
import type { OrderAttemptDeps } from './order-attempt-deps.ts';

/** VIEWER_STUDIES=true: the Viewer study of the same UID, looked up before it is created (§3). */
export async function syncViewerStudy(deps: OrderAttemptDeps, body: StudyCreateBody): Promise<void> {
  if ((await deps.store.orders.get(deps.context.lease.imagingStudyId))?.viewerStudyId) return;
  const existing = await deps.avara.getViewerStudyByUid(body.studyInstanceUid);
  if (existing) {
    await deps.context.recordStep({ viewerStudyId: existing.studyId }, 'order_viewer_adopted', { viewerStudy: existing.studyId });
    return;
  }
  const { severity, studyDescription, studyInstanceUid, metadata } = body;
  const created = await deps.avara.createViewerStudy({ severity, studyDescription, studyInstanceUid, ...(metadata ? { metadata } : {}) });
  await deps.context.recordStep({ viewerStudyId: created.studyId }, 'order_viewer_created', { viewerStudy: created.studyId });
}
