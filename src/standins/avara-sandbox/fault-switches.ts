/** What the next calls of one route should suffer. Without `status` the call is only delayed. */
export interface FaultSpec {
  status?: number;
  times?: number;              // default 1
  retryAfterSeconds?: number;  // sent as Retry-After
  retryAfterMs?: number;       // sent as retry-after-ms (the SDKs' non-standard header)
  shouldRetry?: boolean;       // sent as x-should-retry
  delayMs?: number;
}

/** Per-route fault switches and call counters; route names are "METHOD /templated/{path}". */
export interface FaultSwitches {
  failNext(route: string, spec: FaultSpec): void;
  /** Every n-th call of the Avara API (`/v1/...`, any route) suffers `spec`, until cleared. */
  failEvery(n: number, spec: FaultSpec): void;
  takeFault(route: string): FaultSpec | undefined;
  countCall(route: string): void;
  counts(): Record<string, number>;
  resetCounts(): void;
  clearFaults(): void;
}

export function createFaultSwitches(): FaultSwitches {
  const pending = new Map<string, { spec: FaultSpec; remaining: number }>();
  let calls = new Map<string, number>();
  let periodic: { n: number; spec: FaultSpec; seen: number } | undefined;
  return {
    failNext(route, spec) {
      const remaining = spec.times ?? 1;
      if (remaining <= 0) pending.delete(route);
      else pending.set(route, { spec, remaining });
    },
    failEvery(n, spec) {
      periodic = n > 0 ? { n, spec, seen: 0 } : undefined;
    },
    takeFault(route) {
      const entry = pending.get(route);
      if (!entry) return takePeriodic(route);
      entry.remaining -= 1;
      if (entry.remaining <= 0) pending.delete(route);
      return entry.spec;
    },
    countCall(route) {
      calls.set(route, (calls.get(route) ?? 0) + 1);
    },
    counts: () => Object.fromEntries(calls),
    resetCounts() {
      calls = new Map();
    },
    clearFaults() {
      pending.clear();
      periodic = undefined;
    },
  };

  function takePeriodic(route: string): FaultSpec | undefined {
    if (!periodic || !/^\w+ \/v1\//.test(route)) return undefined;
    periodic.seen += 1;
    return periodic.seen % periodic.n === 0 ? periodic.spec : undefined;
  }
}
