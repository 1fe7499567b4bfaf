import type { Db } from '../store/open-store.ts';
import { POLL_CURSOR_KEY, POLL_CUTOFF_KEY, POLL_REVISIT_KEY } from '../store/poll-keys.ts';
import { readSetting, writeSetting } from '../store/settings-values.ts';

export interface SweepStart {
  /** Look at studies whose signature is unchanged: they were judged under a later cutoff. */
  revisit: boolean;
  startCursor: string | undefined;
}

/**
 * An unchanged study costs nothing because its signature was saved, but it was judged under the
 * cutoff of its sweep. POLL_CUTOFF_KEY keeps the latest cutoff any signature was saved under, so
 * moving POLL_SINCE back (even while a first sweep is half-way) makes sweeps look at every study
 * again until one full sweep has done so. A cursor left by a sweep under another cutoff is not
 * the revisit's: the revisit starts from the first page and then resumes from its own cursor.
 */
export function beginSweepCutoff(db: Db, cutoff: number, now: number): SweepStart {
  const saved = readNumber(db, POLL_CUTOFF_KEY);
  const cursor = readSetting(db, POLL_CURSOR_KEY);
  if (saved === undefined || cutoff >= saved) {
    writeSetting(db, POLL_CUTOFF_KEY, String(Math.max(saved ?? cutoff, cutoff)), now);
    return { revisit: false, startCursor: cursor };
  }
  const resuming = readNumber(db, POLL_REVISIT_KEY) === cutoff;
  if (!resuming) writeSetting(db, POLL_REVISIT_KEY, String(cutoff), now);
  return { revisit: true, startCursor: resuming ? cursor : undefined };
}

/** After a complete sweep: a revisit has judged every study under `cutoff`. */
export function finishSweepCutoff(db: Db, cutoff: number, start: SweepStart, now: number): void {
  if (!start.revisit) return;
  writeSetting(db, POLL_CUTOFF_KEY, String(cutoff), now);
  writeSetting(db, POLL_REVISIT_KEY, undefined, now);
}

function readNumber(db: Db, key: string): number | undefined {
  const raw = readSetting(db, key);
  const value = Number(raw);
  return raw === undefined || !Number.isFinite(value) ? undefined : value;
}
