import { POLL_CURSOR_KEY, POLL_CUTOFF_KEY, POLL_REVISIT_KEY, type Store } from '../store/store.ts';

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
export async function beginSweepCutoff(store: Store, cutoff: number, now: number): Promise<SweepStart> {
  const saved = await readNumber(store, POLL_CUTOFF_KEY);
  const cursor = await store.settings.read(POLL_CURSOR_KEY);
  if (saved === undefined || cutoff >= saved) {
    await store.settings.write(POLL_CUTOFF_KEY, String(Math.max(saved ?? cutoff, cutoff)), now);
    return { revisit: false, startCursor: cursor };
  }
  const resuming = (await readNumber(store, POLL_REVISIT_KEY)) === cutoff;
  if (!resuming) await store.settings.write(POLL_REVISIT_KEY, String(cutoff), now);
  return { revisit: true, startCursor: resuming ? cursor : undefined };
}

/** After a complete sweep: a revisit has judged every study under `cutoff`. */
export async function finishSweepCutoff(store: Store, cutoff: number, start: SweepStart, now: number): Promise<void> {
  if (!start.revisit) return;
  await store.settings.write(POLL_CUTOFF_KEY, String(cutoff), now);
  await store.settings.write(POLL_REVISIT_KEY, undefined, now);
}

async function readNumber(store: Store, key: string): Promise<number | undefined> {
  const raw = await store.settings.read(key);
  const value = Number(raw);
  return raw === undefined || !Number.isFinite(value) ? undefined : value;
}
