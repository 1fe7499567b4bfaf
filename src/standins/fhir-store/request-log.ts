/** One request the store received, as a test sees it afterwards (ids and timings, never bodies). */
export type RecordedRequest = {
  method: string;
  /** URL path without the query, e.g. "/fhir/R4/" for a Bundle posted to the base. */
  path: string;
  /** Epoch milliseconds. */
  receivedAt: number;
  /** Set once the request was answered or dropped; absent while it is still being handled. */
  finishedAt?: number;
  /** The status answered; absent when the connection was dropped instead. */
  status?: number;
  dropped?: boolean;
  /** How long an armed hang held the request. */
  hungMs?: number;
};

export type RequestLog = {
  /** Starts a record; the caller fills in how it ended. */
  begin(method: string, path: string, receivedAt: number): RecordedRequest;
  entries(): readonly RecordedRequest[];
  clear(): void;
};

// The store may run for days under `fhir-server`; the log is for tests, so only the tail is kept.
const MAX_ENTRIES = 1000;

export function createRequestLog(): RequestLog {
  let entries: RecordedRequest[] = [];
  return {
    begin(method, path, receivedAt) {
      const entry: RecordedRequest = { method, path, receivedAt };
      entries.push(entry);
      if (entries.length > MAX_ENTRIES) entries.splice(0, entries.length - MAX_ENTRIES);
      return entry;
    },
    entries: () => entries,
    clear() {
      entries = [];
    },
  };
}
