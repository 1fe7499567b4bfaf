import type { SeededRandom } from './seeded-random.ts';
import { generateSignedStudy } from './generate-study.ts';
import { generateRadiologists } from './generate-radiologists.ts';
import { cancelAddendum, openAddendum, reportsOf, signAddendum, type AddendumDeps } from './addendum-lifecycle.ts';
import type { SandboxReport, SandboxStudy, SandboxUser } from './sandbox-types.ts';

export { SandboxConflict } from './addendum-lifecycle.ts';

/** The sandbox's in-memory Avara tenant. Studies keep insertion order, which is the list order. */
export interface SandboxState {
  readonly studies: Map<string, SandboxStudy>;
  readonly reports: Map<string, SandboxReport>;
  readonly users: Map<string, SandboxUser>;
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
  const deps: AddendumDeps = { reports, users, random, now };
  return {
    studies, reports, users,
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
