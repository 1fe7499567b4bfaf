/** Decides whether a fault applies to a request; `path` is the URL path without the query, e.g. "/fhir/R4/Patient" or "/fhir/R4/" for the base. */
export type RequestMatcher = (method: string, path: string) => boolean;

export type FailNextOptions = { retryAfterSeconds?: number; matcher?: RequestMatcher };

/** The switches tests flip on a running store (down/up live on the server, they own the socket). */
export type FaultSwitches = {
  /** The next `times` matching requests answer `status` with an OperationOutcome and change nothing. */
  failNext(times: number, status: number, options?: FailNextOptions): void;
  /** The next `times` matching requests are applied, then the socket is destroyed without an answer. */
  commitThenDrop(times: number, options?: { matcher?: RequestMatcher }): void;
  /** Every request waits this long before it is handled (0 turns it off). */
  delayMs(ms: number): void;
  reset(): void;
};

export type InjectedFailure = { status: number; retryAfterSeconds?: number };

export type FaultState = FaultSwitches & {
  currentDelayMs(): number;
  /** Consumes one armed failure that matches the request, if any. */
  takeFailure(method: string, path: string): InjectedFailure | undefined;
  /** Consumes one armed drop that matches the request, if any. */
  takeDrop(method: string, path: string): boolean;
};

type Armed<T> = { remaining: number; matcher: RequestMatcher; fault: T };

export function createFaultSwitches(): FaultState {
  let failures: Armed<InjectedFailure>[] = [];
  let drops: Armed<true>[] = [];
  let delay = 0;
  const any: RequestMatcher = () => true;

  return {
    failNext(times, status, options = {}) {
      const fault = { status, retryAfterSeconds: options.retryAfterSeconds };
      failures.push({ remaining: times, matcher: options.matcher ?? any, fault });
    },
    commitThenDrop(times, options = {}) {
      drops.push({ remaining: times, matcher: options.matcher ?? any, fault: true });
    },
    delayMs(ms) {
      delay = Math.max(0, ms);
    },
    reset() {
      failures = [];
      drops = [];
      delay = 0;
    },
    currentDelayMs: () => delay,
    takeFailure: (method, path) => take(failures, method, path),
    takeDrop: (method, path) => take(drops, method, path) ?? false,
  };
}

function take<T>(armed: Armed<T>[], method: string, path: string): T | undefined {
  const rule = armed.find((candidate) => candidate.remaining > 0 && candidate.matcher(method, path));
  if (!rule) return undefined;
  rule.remaining--;
  return rule.fault;
}
