/** Decides whether a fault applies to a request; `path` is the URL path without the query, e.g. "/fhir/R4/Patient" or "/fhir/R4/" for the base. */
export type RequestMatcher = (method: string, path: string) => boolean;

export type FailNextOptions = { retryAfterSeconds?: number; matcher?: RequestMatcher };

/** Which transaction entry to report as failed, and with which status (e.g. 422). */
export type FailEntryOptions = { resourceType: string; status: number; matcher?: RequestMatcher };

/** The switches tests flip on a running store (down/up live on the server, they own the socket). */
export type FaultSwitches = {
  /** The next `times` matching requests answer `status` with an OperationOutcome and change nothing. */
  failNext(times: number, status: number, options?: FailNextOptions): void;
  /** The next `times` matching requests are applied, then the socket is destroyed without an answer. */
  commitThenDrop(times: number, options?: { matcher?: RequestMatcher }): void;
  /**
   * The next `times` matching requests wait `ms` before they are handled, then are handled and
   * answered as usual, even when the client has given up meanwhile (a late commit).
   */
  hangNext(times: number, ms: number, options?: { matcher?: RequestMatcher }): void;
  /**
   * The next `times` matching transaction Bundles are applied, but answered 200 with the first
   * entry of `resourceType` reported as failed with `status`: a server that handles a transaction
   * like a batch. The store itself never answers this way.
   */
  failEntryNext(times: number, options: FailEntryOptions): void;
  /**
   * On: transaction and batch Bundles are no longer serialized; each conditional entry's
   * existence check is followed by a pause of `gapMs` before the entries are applied, so two
   * concurrent conditional creates of one identifier both create (a server whose conditional
   * create is check-then-insert without a unique constraint). Writes themselves stay one at a time.
   */
  racyConditionalCreates(on: boolean, options?: { gapMs?: number }): void;
  /** Every request waits this long before it is handled (0 turns it off). */
  delayMs(ms: number): void;
  reset(): void;
};

export type InjectedFailure = { status: number; retryAfterSeconds?: number };
export type InjectedEntryFailure = { resourceType: string; status: number };

export type FaultState = FaultSwitches & {
  currentDelayMs(): number;
  /** The pause between a conditional check and the writes, while racy mode is on. */
  racyGapMs(): number | undefined;
  /** Consumes one armed failure that matches the request, if any. */
  takeFailure(method: string, path: string): InjectedFailure | undefined;
  /** Consumes one armed drop that matches the request, if any. */
  takeDrop(method: string, path: string): boolean;
  /** Consumes one armed hang that matches the request: how long to hang, if any. */
  takeHang(method: string, path: string): number | undefined;
  /** Consumes one armed failed-entry answer that matches the request, if any. */
  takeEntryFailure(method: string, path: string): InjectedEntryFailure | undefined;
};

type Armed<T> = { remaining: number; matcher: RequestMatcher; fault: T };

// Long enough that two requests sent together both finish their checks before either writes.
const DEFAULT_RACY_GAP_MS = 50;

export function createFaultSwitches(): FaultState {
  let failures: Armed<InjectedFailure>[] = [];
  let drops: Armed<true>[] = [];
  let hangs: Armed<number>[] = [];
  let entryFailures: Armed<InjectedEntryFailure>[] = [];
  let delay = 0;
  let racyGap: number | undefined;
  const any: RequestMatcher = () => true;

  return {
    failNext(times, status, options = {}) {
      const fault = { status, retryAfterSeconds: options.retryAfterSeconds };
      failures.push({ remaining: times, matcher: options.matcher ?? any, fault });
    },
    commitThenDrop(times, options = {}) {
      drops.push({ remaining: times, matcher: options.matcher ?? any, fault: true });
    },
    hangNext(times, ms, options = {}) {
      hangs.push({ remaining: times, matcher: options.matcher ?? any, fault: Math.max(0, ms) });
    },
    failEntryNext(times, options) {
      const fault = { resourceType: options.resourceType, status: options.status };
      entryFailures.push({ remaining: times, matcher: options.matcher ?? any, fault });
    },
    racyConditionalCreates(on, options = {}) {
      racyGap = on ? Math.max(0, options.gapMs ?? DEFAULT_RACY_GAP_MS) : undefined;
    },
    delayMs(ms) {
      delay = Math.max(0, ms);
    },
    reset() {
      failures = [];
      drops = [];
      hangs = [];
      entryFailures = [];
      delay = 0;
      racyGap = undefined;
    },
    currentDelayMs: () => delay,
    racyGapMs: () => racyGap,
    takeFailure: (method, path) => take(failures, method, path),
    takeDrop: (method, path) => take(drops, method, path) ?? false,
    takeHang: (method, path) => take(hangs, method, path),
    takeEntryFailure: (method, path) => take(entryFailures, method, path),
  };
}

function take<T>(armed: Armed<T>[], method: string, path: string): T | undefined {
  const rule = armed.find((candidate) => candidate.remaining > 0 && candidate.matcher(method, path));
  if (!rule) return undefined;
  rule.remaining--;
  return rule.fault;
}
