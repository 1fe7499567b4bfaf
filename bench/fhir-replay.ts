import type { RecordedRequest } from './recording-proxy.ts';

/** The FHIR requests of one delivered report, in the order serve sent them. */
export type ReportRequests = RecordedRequest[];

/** Whether `request` is the read-back that ends a delivery: the DiagnosticReport search after the transaction. */
export function isReadBack(request: RecordedRequest): boolean {
  return request.method === 'GET' && /\/DiagnosticReport\?/.test(request.path);
}

/** Whether `request` is a transaction (or batch): a POST to the FHIR base itself. */
export function isTransaction(request: RecordedRequest, basePath: string): boolean {
  return request.method === 'POST' && request.path.replace(/\/+$/, '') === basePath.replace(/\/+$/, '');
}

/**
 * Splits the requests of deliveries made one at a time (WORKER_CONCURRENCY=1) into one list per
 * report: each ends with the read-back following its transaction. Throws when the sequence is
 * not that shape (a retry, a failed delivery), since the replay would then not be what a
 * delivery asks.
 */
export function splitByReport(requests: RecordedRequest[], basePath: string): ReportRequests[] {
  const reports: ReportRequests[] = [];
  let current: RecordedRequest[] = [];
  let transactions = 0;
  for (const request of requests) {
    current.push(request);
    if (isTransaction(request, basePath)) transactions += 1;
    if (transactions > 0 && isReadBack(request)) {
      if (transactions !== 1) throw new Error(`report ${reports.length + 1}: ${transactions} transactions before its read-back`);
      reports.push(current);
      current = [];
      transactions = 0;
    }
  }
  if (current.length > 0) throw new Error(`${current.length} request(s) after the last read-back: a delivery did not finish`);
  return reports;
}

/** Throws unless the store's answer is what the product needs to call the delivery done. */
export function checkReplayAnswer(request: RecordedRequest, basePath: string, status: number, body: Buffer): void {
  if (status < 200 || status > 299) throw new Error(`the FHIR store answered ${status} to ${request.method} ${request.path.split('?')[0]}`);
  if (isTransaction(request, basePath)) {
    const bundle = JSON.parse(body.toString('utf8')) as { type?: string; entry?: { response?: { status?: string } }[] };
    const failed = (bundle.entry ?? []).filter((e) => !/^2\d\d/.test(e.response?.status ?? ''));
    if (bundle.type !== 'transaction-response' || failed.length > 0) throw new Error(`the transaction was not accepted whole (${failed.length} failed entries)`);
  } else if (isReadBack(request)) {
    const found = (JSON.parse(body.toString('utf8')) as { entry?: unknown[] }).entry?.length ?? 0;
    if (found !== 1) throw new Error(`the read-back found ${found} DiagnosticReports, not 1`);
  }
}
