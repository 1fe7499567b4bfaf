/** Spaces calls at least 1/perSecond apart: the poller must never be the reason for a 429. */
export function createThrottle(perSecond: number, sleep: (ms: number) => Promise<void> = defaultSleep): () => Promise<void> {
  const gapMs = 1000 / perSecond;
  let nextAt = 0;
  return async () => {
    const now = Date.now();
    const wait = nextAt - now;
    nextAt = Math.max(now, nextAt) + gapMs;
    if (wait > 0) await sleep(wait);
  };
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
