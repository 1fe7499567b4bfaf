import type { SeededRandom } from './seeded-random.ts';
import { generateSignedStudy } from './generate-study.ts';
import { generateRadiologists } from './generate-radiologists.ts';
import { cancelAddendum, openAddendum, reportsOf, signAddendum, type AddendumDeps } from './addendum-lifecycle.ts';
import type { SandboxReport, SandboxStudy, SandboxUser, SandboxViewerStudy } from './sandbox-types.ts';
import type { StudyCreateBody } from '../../avara/study-write-schemas.ts';
import { createStudyRecord } from './create-study-record.ts';
import { signCreatedStudy } from './sign-created-study.ts';

export { SandboxConflict } from './addendum-lifecycle.ts';

/** The sandbox's in-memory Avara tenant. Studies keep insertion order, which is the list order. */
export interface SandboxState {
  readonly studies: Map<string, SandboxStudy>;
  readonly reports: Map<string, SandboxReport>;
  readonly users: Map<string, SandboxUser>;
  /** §9.7 Viewer studies, a separate product tree with its own ids. */
  readonly viewerStudies: Map<string, SandboxViewerStudy>;
  /** §9.1 create; undefined when a study with that UID exists (the caller answers 409). */
  createStudy(body: StudyCreateBody): SandboxStudy | undefined;
  /** A radiologist signs the original report of a created study (auto-sign). */
  signCreated(study: SandboxStudy): SandboxReport;
  addSignedStudy(signedAt: Date, critical: boolean | undefined): SandboxReport;
  openAddendum(study: SandboxStudy): SandboxReport;
  signAddendum(study: SandboxStudy, critical: boolean | undefined): SandboxReport;
  cancelAddendum(study: SandboxStudy): boolean;
  reportsOf(study: SandboxStudy): SandboxReport[];
}

export function createSandboxState(random: SeededRandom, now: () => Date, apiKeyId: string): SandboxState {
  const studies = new Map<string, SandboxStudy>();
  const reports = new Map<string, SandboxReport>();
  const radiologists = generateRadiologists(random, now());
  const users = new Map(radiologists.map((user) => [user.userId, user]));
  const viewerStudies = new Map<string, SandboxViewerStudy>();
  const deps: AddendumDeps = { reports, users, random, now };
  return {
    studies, reports, users, viewerStudies,
    createStudy(body) {
      // Like a unique constraint on the UID: Avara has no idempotency keys (§3), so a second
      // create of one UID is refused rather than silently duplicated (documented in README).
      if ([...studies.values()].some((s) => s.studyInstanceUid === body.studyInstanceUid)) return undefined;
      const study = createStudyRecord(body, { studyId: `stu_${random.hex(32)}`, apiKeyId }, now());
      studies.set(study.studyId, study);
      return study;
    },
    signCreated(study) {
      const report = signCreatedStudy(random, study, random.pick(radiologists), now());
      reports.set(report.report.reportId, report);
      return report;
    },
    addSignedStudy(signedAt, critical) {
      const { study, report } = generateSignedStudy(random, { signedAt, critical, radiologist: random.pick(radiologists), apiKeyId });
      studies.set(study.studyId, study);
      reports.set(report.report.reportId, report);
      return report;
    },
    openAddendum: (study) => openAddendum(deps, study),
    signAddendum: (study, critical) => signAddendum(deps, study, critical),
    cancelAddendum: (study) => cancelAddendum(deps, study),
    reportsOf: (study) => reportsOf(deps, study),
  };
}
