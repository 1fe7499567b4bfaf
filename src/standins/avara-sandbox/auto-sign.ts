import type { SandboxStudy, SignedRef } from './sandbox-types.ts';

export interface AutoSigner {
  /** `delayMs` after each API-created study, sign its report and send the webhook; null turns it off. */
  set(setting: { delayMs: number } | null): void;
  studyCreated(study: SandboxStudy): void;
  stop(): void;
}

/** The "a radiologist reads it" switch for the orders round trip (demo --orders, tests). */
export function createAutoSigner(sign: (study: SandboxStudy) => Promise<SignedRef>): AutoSigner {
  let delayMs: number | null = null;
  const timers = new Set<NodeJS.Timeout>();
  return {
    set(setting) {
      delayMs = setting?.delayMs ?? null;
    },
    studyCreated(study) {
      if (delayMs === null) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        // A study cancelled in the meantime is not read.
        if (!study.isCancelled && study.studyReportStatus === 'unassigned') void sign(study).catch(() => undefined);
      }, delayMs);
      timers.add(timer);
    },
    stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
