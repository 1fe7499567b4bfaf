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

interface TransactionKeys {
  studyId: string;
  /** `identifier` tokens (`system|value`) of the conditional creates: the created Patient's, the Practitioners'. */
  patient: string | undefined;
  practitioners: Set<string>;
}

/** What a delivery transaction is about: its DiagnosticReport's study, and who it creates. */
export function transactionKeys(body: Buffer): TransactionKeys {
  const bundle = JSON.parse(body.toString('utf8')) as { entry?: { resource?: { resourceType?: string }; request?: { url?: string; ifNoneExist?: string } }[] };
  let studyId: string | undefined;
  let patient: string | undefined;
  const practitioners = new Set<string>();
  for (const entry of bundle.entry ?? []) {
    const type = entry.resource?.resourceType;
    if (type === 'DiagnosticReport') studyId = valueOf(new URLSearchParams(entry.request?.url?.split('?')[1] ?? '').get('identifier') ?? '');
    const created = entry.request?.ifNoneExist ? new URLSearchParams(entry.request.ifNoneExist).get('identifier') ?? undefined : undefined;
    if (type === 'Patient') patient = created;
    if (type === 'Practitioner' && created) practitioners.add(created);
  }
  if (!studyId) throw new Error('a recorded transaction has no DiagnosticReport identifier');
  return { studyId, patient, practitioners };
}

interface Pending {
  index: number;
  request: RecordedRequest;
  token: string;
}

/**
 * Groups requests of deliveries made concurrently into one list per report (study), each in the
 * order serve sent it. The read-back (and any DiagnosticReport search) names its study, the
 * transaction names it in its DiagnosticReport entry. A Patient search goes to the next
 * transaction that creates that patient, or, for a transaction without a Patient entry (the
 * patient was found), to the oldest waiting search of a patient created earlier in the
 * recording; a Practitioner search to the next transaction with that signer. serve's start-up
 * look at the server (`/metadata`) belongs to no report and is left out.
 */
export function groupByStudy(requests: RecordedRequest[], basePath: string): ReportRequests[] {
  const groups = new Map<string, Omit<Pending, 'token'>[]>();
  const patientSearches: Pending[] = [];
  const signerSearches: Pending[] = [];
  const createdPatients = new Set<string>();
  const add = (studyId: string, item: Omit<Pending, 'token'>) => {
    if (!groups.has(studyId)) groups.set(studyId, []);
    groups.get(studyId)!.push(item);
  };
  const take = (list: Pending[], at: number) => list.splice(at, 1)[0]!;
  requests.forEach((request, index) => {
    const [path = '', query = ''] = request.path.split('?');
    const type = path.split('/').at(-1);
    const identifier = new URLSearchParams(query).get('identifier') ?? '';
    // serve's look at the target when it starts (capabilities, SMART configuration): not a delivery's.
    if (request.method === 'GET' && (type === 'metadata' || path.includes('/.well-known/'))) return;
    if (isTransaction(request, basePath)) {
      const keys = transactionKeys(request.body);
      add(keys.studyId, { index, request });
      const at = keys.patient !== undefined
        ? patientSearches.findIndex((p) => p.token === keys.patient)
        : patientSearches.findIndex((p) => createdPatients.has(p.token));
      if (at >= 0) add(keys.studyId, take(patientSearches, at));
      for (let i = signerSearches.length - 1; i >= 0; i--) {
        if (keys.practitioners.has(signerSearches[i]!.token)) add(keys.studyId, take(signerSearches, i));
      }
      if (keys.patient !== undefined) createdPatients.add(keys.patient);
    } else if (request.method === 'GET' && type === 'DiagnosticReport' && valueOf(identifier)) {
      add(valueOf(identifier)!, { index, request });
    } else if (request.method === 'GET' && type === 'Patient') {
      patientSearches.push({ index, request, token: identifier });
    } else if (request.method === 'GET' && type === 'Practitioner') {
      signerSearches.push({ index, request, token: identifier });
    } else {
      throw new Error(`a recorded ${request.method} ${path} that no delivery step explains`);
    }
  });
  const left = patientSearches.length + signerSearches.length;
  if (left > 0) throw new Error(`${left} search(es) that no transaction took: a delivery did not finish`);
  // In the order the deliveries began; each group is one delivery, and splitByReport checks its
  // shape (one transaction, then the read-back).
  return [...groups.values()]
    .map((group) => group.sort((a, b) => a.index - b.index))
    .sort((a, b) => a[0]!.index - b[0]!.index)
    .flatMap((group) => splitByReport(group.map((g) => g.request), basePath));
}

function valueOf(identifier: string): string | undefined {
  return identifier.includes('|') ? identifier.slice(identifier.lastIndexOf('|') + 1) : undefined;
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
