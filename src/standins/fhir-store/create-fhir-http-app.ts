import { allOk, isOk, normalizeOperationOutcome } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouter, HttpMethod } from '@medplum/fhir-router';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { buildCapabilityStatement } from './capability-statement.ts';
import { documentsModeRefusal, type EhrMode, type Refusal } from './documents-mode.ts';
import type { FaultState, InjectedEntryFailure, InjectedFailure } from './fault-switches.ts';
import type { IndexedMemoryRepository } from './indexed-memory-repository.ts';
import { processBundle } from './process-bundle.ts';
import type { RecordedRequest, RequestLog } from './request-log.ts';
import { createSerialQueue, type RunSerially } from './serial-queue.ts';
import { FHIR_JSON, writeFhirResponse } from './write-fhir-response.ts';

export type FhirHttpAppDeps = {
  repository: IndexedMemoryRepository;
  router: FhirRouter;
  faults: FaultState;
  requestLog: RequestLog;
  basePath: string;
  /** SMART Backend Services in front of every FHIR request (smart/smart-auth-router.ts). */
  auth?: express.Router;
  /** Default transactions; documents refuses what Epic / Oracle Health refuse (documents-mode.ts). */
  ehr?: EhrMode;
};

// Delivery bundles carry base64 PDFs (a 30 MB PDF is 40 MB of base64).
const MAX_BODY = '50mb';
// Like Medplum's and HAPI's servers: a search without _count answers one page, never the whole store.
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 1000;

export function createFhirHttpApp(deps: FhirHttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Every request runs alone: the repository's undo log and conditional decisions assume one writer.
  // Today a request never waits on I/O once handled, so requests could not interleave anyway; the
  // queue keeps that true when something asynchronous is added inside a request. The racy fault
  // mode lets Bundles decide their conditions outside the queue, but still writes inside it.
  const queue = createSerialQueue();
  if (deps.auth) app.use(deps.basePath, deps.auth);
  app.use(deps.basePath, express.json({ limit: MAX_BODY, type: [FHIR_JSON, 'application/json', 'application/json-patch+json'] }));
  app.use(deps.basePath, (req, res, next) => {
    const record = deps.requestLog.begin(req.method, `${req.baseUrl}${req.path}`, Date.now());
    handleFhirRequest(deps, queue.run.bind(queue), record, req, res).catch((err: unknown) => {
      record.finishedAt = Date.now();
      next(err);
    });
  });
  app.use(deps.basePath, writeTransportError);
  return app;
}

async function handleFhirRequest(deps: FhirHttpAppDeps, runSerially: RunSerially, record: RecordedRequest, req: Request, res: Response): Promise<void> {
  const { faults } = deps;
  const path = record.path;
  const delay = faults.currentDelayMs();
  if (delay > 0) await sleep(delay);
  const hang = faults.takeHang(req.method, path);
  if (hang !== undefined) {
    record.hungMs = hang;
    await sleep(hang);
  }
  const failure = faults.takeFailure(req.method, path);
  if (failure) {
    writeInjectedFailure(res, failure);
    finishRecord(record, failure.status);
    return;
  }
  const baseUrl = `${req.protocol}://${req.get('host')}${deps.basePath}`;
  const relativeUrl = withPageSize(req.method, req.url.replace(/^\//, ''));
  const refusal = deps.ehr === 'documents' ? documentsModeRefusal(req.method, relativeUrl, req.get('if-none-exist')) : undefined;
  if (refusal) {
    writeRefusal(res, refusal);
    finishRecord(record, refusal.status);
    return;
  }
  const racyGapMs = faults.racyGapMs();
  const response = racyGapMs !== undefined && isBundlePost(req, relativeUrl)
    ? await processBundle({ ...deps, racy: { gapMs: racyGapMs, runSerially } }, req.body)
    : await runSerially(() => dispatch(deps, req, relativeUrl, baseUrl));
  if (faults.takeDrop(req.method, path)) {
    // The write above is committed; the client only sees the connection die.
    req.socket.destroy();
    record.dropped = true;
    finishRecord(record, undefined);
    return;
  }
  const entryFailure = isTransactionAnswer(response) ? faults.takeEntryFailure(req.method, path) : undefined;
  if (entryFailure) reportEntryFailed(response[1] as Bundle, req.body as Bundle, entryFailure);
  writeFhirResponse(res, response, { baseUrl, relativeUrl }, { returnMinimal: /return=minimal/.test(req.get('prefer') ?? '') });
  finishRecord(record, res.statusCode);
}

async function dispatch(deps: FhirHttpAppDeps, req: Request, relativeUrl: string, baseUrl: string): Promise<FhirResponse> {
  const path = relativeUrl.split('?')[0];
  if (req.method === 'GET' && path === 'metadata') return [allOk, buildCapabilityStatement(baseUrl, deps.ehr ?? 'transactions')];
  if (isBundlePost(req, relativeUrl)) return processBundle(deps, req.body);
  const request: FhirRequest = {
    method: req.method as HttpMethod,
    url: relativeUrl,
    pathname: '',
    params: {},
    query: {},
    body: req.body,
    headers: req.headers,
    config: { transactions: true },
  };
  try {
    return await deps.router.handleRequest(request, deps.repository);
  } catch (err) {
    return [normalizeOperationOutcome(err)];
  }
}

function isBundlePost(req: Request, relativeUrl: string): boolean {
  return req.method === 'POST' && relativeUrl.split('?')[0] === '' && req.body?.resourceType === 'Bundle';
}

function isTransactionAnswer([outcome, resource]: FhirResponse): boolean {
  return isOk(outcome) && resource?.resourceType === 'Bundle' && (resource as Bundle).type === 'transaction-response';
}

/** The failEntryNext fault: the answer's entry for the first `resourceType` entry says it failed. */
function reportEntryFailed(answer: Bundle, request: Bundle, failure: InjectedEntryFailure): void {
  const index = (request.entry ?? []).findIndex((entry) => entry.resource?.resourceType === failure.resourceType);
  if (index < 0 || !answer.entry?.[index]) return;
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'processing', expression: [`Bundle.entry[${index}]`], details: { text: 'Injected entry failure' } }],
  };
  // Bare code, as the store writes every entry status.
  answer.entry[index] = { response: { status: String(failure.status), outcome } };
}

function finishRecord(record: RecordedRequest, status: number | undefined): void {
  record.finishedAt = Date.now();
  if (status !== undefined) record.status = status;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Adds the default `_count` to a type-level search and caps a larger one. */
function withPageSize(method: string, relativeUrl: string): string {
  const [path = '', query = ''] = relativeUrl.split(/\?(.*)/s);
  if (method !== 'GET' || path === '' || path.includes('/') || path === 'metadata') return relativeUrl;
  const params = new URLSearchParams(query);
  const requested = Number(params.get('_count') ?? DEFAULT_PAGE_SIZE);
  params.set('_count', String(Number.isInteger(requested) && requested >= 0 ? Math.min(requested, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE));
  return `${path}?${params.toString()}`;
}

function writeInjectedFailure(res: Response, failure: InjectedFailure): void {
  if (failure.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(failure.retryAfterSeconds));
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'transient', details: { text: `Injected fault: ${failure.status}` } }],
  };
  res.status(failure.status).type(FHIR_JSON).send(JSON.stringify(outcome));
}

function writeRefusal(res: Response, refusal: Refusal): void {
  res.status(refusal.status).type(FHIR_JSON).send(JSON.stringify(refusal.outcome));
}

/** Body parsing errors (malformed JSON, too large) as OperationOutcomes; never echoes the body. */
function writeTransportError(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
    return;
  }
  const status = (err as { status?: number }).status ?? 500;
  const text = status === 413 ? 'Request body too large' : status < 500 ? 'Malformed request body' : 'Internal error';
  const code = status === 413 ? 'too-costly' : status < 500 ? 'invalid' : 'exception';
  const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
  res.status(status).type(FHIR_JSON).send(JSON.stringify(outcome));
}
