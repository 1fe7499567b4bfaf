import { SyncError } from '../errors.ts';
import { findAvaraJson, requestAvaraJson, type AvaraHttpSettings } from './request-avara-json.ts';
import { StudySchema, type Study } from './schemas.ts';
import {
  SuccessAnswerSchema, ViewerStudySchema,
  type StudyCreateBody, type StudyPatchBody, type ViewerStudy, type ViewerStudyCreateBody,
} from './study-write-schemas.ts';

export interface StudyWriteCalls {
  /** §9.1 create. Never retried in-process: without idempotency keys (§3) a retry may create twice. */
  createStudy(body: StudyCreateBody): Promise<Study>;
  /** §9.1 PATCH: same body, same result, so the short retries are safe. */
  updateStudy(studyId: string, patch: StudyPatchBody): Promise<Study>;
  cancelStudy(studyId: string): Promise<void>;
  uncancelStudy(studyId: string): Promise<void>;
  /** §6.3, with "no such study" as null instead of an error: the answer that allows a create. */
  findStudyByUid(studyInstanceUid: string): Promise<Study | null>;
  createViewerStudy(body: ViewerStudyCreateBody): Promise<ViewerStudy>;
  getViewerStudyByUid(studyInstanceUid: string): Promise<ViewerStudy | null>;
}

export function studyWriteCalls(http: AvaraHttpSettings): StudyWriteCalls {
  const byUid = (operation: string, tree: 'autoScribe' | 'viewer', uid: string) => ({
    operation,
    endpoint: `GET /v1/${tree}/studies/by-uid/{studyInstanceUid}`,
    path: `/v1/${tree}/studies/by-uid/${encodeURIComponent(uid)}`,
  });
  const verb = async (name: 'cancel' | 'uncancel', studyId: string) => {
    const endpoint = `POST /v1/autoScribe/studies/${name}`;
    await requestAvaraJson(http, { operation: `${name}Study`, endpoint, path: `/v1/autoScribe/studies/${name}`, method: 'POST', body: { studyId } }, SuccessAnswerSchema, (answer) => {
      // The message may describe the study; keep only the verdict.
      if (!answer.success) throw SyncError.permanent('avara_bad_request', `Avara ${endpoint} answered success: false`);
    });
  };
  return {
    createStudy: (body) => requestAvaraJson(http, {
      operation: 'createStudy', endpoint: 'POST /v1/autoScribe/studies', path: '/v1/autoScribe/studies', method: 'POST', body, maxRetries: 0,
    }, StudySchema),
    updateStudy: (studyId, patch) => requestAvaraJson(http, {
      operation: 'updateStudy', endpoint: 'PATCH /v1/autoScribe/studies/{studyId}', path: `/v1/autoScribe/studies/${encodeURIComponent(studyId)}`, method: 'PATCH', body: patch,
    }, StudySchema),
    cancelStudy: (studyId) => verb('cancel', studyId),
    uncancelStudy: (studyId) => verb('uncancel', studyId),
    findStudyByUid: (uid) => findAvaraJson(http, byUid('findStudyByUid', 'autoScribe', uid), StudySchema),
    createViewerStudy: (body) => requestAvaraJson(http, {
      operation: 'createViewerStudy', endpoint: 'POST /v1/viewer/studies', path: '/v1/viewer/studies', method: 'POST', body, maxRetries: 0,
    }, ViewerStudySchema),
    getViewerStudyByUid: (uid) => findAvaraJson(http, byUid('getViewerStudyByUid', 'viewer', uid), ViewerStudySchema),
  };
}
