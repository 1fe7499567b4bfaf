/**
 * How long a wait may last. A deadline (`timeoutMs`) suits a small, fixed piece of work: one
 * delivery, one log line. Long work is bounded by progress instead: `progress` is read on every
 * poll and the wait fails when its value has not changed for `stallMs`, however long the whole
 * wait took, so a busy machine that is slow but moving does not fail correct code.
 */
export type WaitLimit =
  | { timeoutMs: number; explain?: () => string | Promise<string> }
  | { stallMs: number; progress: () => unknown; explain?: () => string | Promise<string> };

/** How long nothing may move before a long wait counts as hung (style.md, Tests: "nothing moved for 30 s"). */
export const STALL_MS = 30_000;

/**
 * The vitest timeout of a test bounded by progress: only a guard against a hang of the runner
 * itself, since the test's own waits fail first when nothing moves.
 */
export const HANG_GUARD_MS = 10 * 60_000;

const POLL_MS = 25;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a value (not undefined/false), or fails when the limit is hit;
 * a bare number is a deadline in milliseconds. `explain` adds the state things were in to the error.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  limit: number | WaitLimit = 20_000,
): Promise<T> {
  const bound = typeof limit === 'number' ? { timeoutMs: limit } : limit;
  const startedAt = Date.now();
  const watch = 'progress' in bound ? watchProgress(bound.progress) : undefined;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    const failure = 'timeoutMs' in bound
      ? Date.now() - startedAt > bound.timeoutMs && `timed out waiting for ${what}`
      : watch!.stalledMs() > bound.stallMs && `nothing moved for ${bound.stallMs / 1000} s while waiting for ${what} (progress ${watch!.last()})`;
    if (failure) throw new Error(bound.explain ? `${failure}; ${await bound.explain()}` : failure);
    await sleep(POLL_MS);
  }
}

/**
 * Runs `work` and fails it when `progress` has not changed for `stallMs`: a watchdog for a long
 * test body made of many steps, each of which may take long on a busy machine.
 */
export async function failOnStall<T>(what: string, work: Promise<T>, limit: { stallMs: number; progress: () => unknown }): Promise<T> {
  const watch = watchProgress(limit.progress);
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      if (watch.stalledMs() > limit.stallMs) {
        reject(new Error(`nothing moved for ${limit.stallMs / 1000} s during ${what} (progress ${watch.last()})`));
      }
    }, 250);
  });
  try {
    return await Promise.race([work, stalled]);
  } finally {
    clearInterval(timer);
  }
}

/** Reads the probe on each call and says for how long its value (compared as JSON) has stood still. */
function watchProgress(progress: () => unknown): { stalledMs(): number; last(): string } {
  let last = JSON.stringify(progress());
  let movedAt = Date.now();
  return {
    stalledMs() {
      const now = JSON.stringify(progress());
      if (now !== last) {
        last = now;
        movedAt = Date.now();
      }
      return Date.now() - movedAt;
    },
    last: () => last,
  };
}
