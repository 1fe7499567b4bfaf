import { MedplumClient } from '@medplum/core';
import type { Bundle, Resource, ResourceType } from '@medplum/fhirtypes';
import pRetry, { AbortError } from 'p-retry';
import type { FhirAuth } from '../config/load-config.ts';
import { SyncError } from '../errors.ts';
import { createTokenSource } from './client-credentials.ts';
import { classifyStatus, retryAfterMs } from '../retry-policy.ts';

export interface FhirClientSettings {
  baseUrl: string;
  auth: FhirAuth;
  timeoutMs?: number;
  /** Short in-call retries; longer waits go back to the delivery queue. */
  maxRetries?: number;
  maxRetryAfterMs?: number;
}

/** A parameter given several values (e.g. `occurrence: ['ge2026-11-20', 'le2026-11-21']`) repeats in the URL: AND. */
export type SearchQuery = Record<string, string | string[]>;

export interface FhirClient {
  search<T extends Resource>(resourceType: T['resourceType'], query: SearchQuery): Promise<T[]>;
  postTransaction(bundle: Bundle): Promise<Bundle>;
  /** Every page of a search, following the server's `next` links (each page retried on its own). */
  searchPages<T extends Resource>(resourceType: T['resourceType'], query: Record<string, string>): AsyncGenerator<T[], void, undefined>;
  readonly baseUrl: string;
}

export function createFhirClient(settings: FhirClientSettings): FhirClient {
  const timeoutMs = settings.timeoutMs ?? 60_000;
  const medplum = new MedplumClient({
    baseUrl: `${settings.baseUrl}/`,
    fhirUrlPath: '',
    cacheTime: 0,
    autoBatchTime: 0,
    fetch: classifyingFetch(timeoutMs, settings.auth),
  });
  if (settings.auth.kind === 'basic') medplum.setBasicAuth(settings.auth.username, settings.auth.password);
  if (settings.auth.kind === 'bearer') medplum.setAccessToken(settings.auth.token);

  const retrying = <T>(what: string, call: () => Promise<T>): Promise<T> =>
    pRetry(
      async () => {
        try {
          return await call();
        } catch (error) {
          const failure = toFhirError(error, what);
          const tooLong = (failure.retryAfterMs ?? 0) > (settings.maxRetryAfterMs ?? 30_000);
          if (!failure.retryable || tooLong) throw new AbortError(failure);
          throw failure;
        }
      },
      {
        retries: settings.maxRetries ?? 2,
        minTimeout: 500,
        factor: 2,
        maxTimeout: 8000,
        randomize: true,
        // Honour the server's Retry-After for the next short wait when it gave one.
        onFailedAttempt: async ({ error }) => {
          const wait = error instanceof SyncError ? error.retryAfterMs : undefined;
          if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
        },
      },
    );

  return {
    baseUrl: settings.baseUrl,
    search: <T extends Resource>(resourceType: T['resourceType'], query: SearchQuery) =>
      retrying(`search ${resourceType}`, async () => {
        const bundle = await medplum.search(resourceType as ResourceType, toSearchParams(query), { maxRetries: 0 });
        const resources: Resource[] = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource as Resource] : []));
        return resources.filter((r): r is T => r.resourceType === resourceType);
      }),
    async *searchPages<T extends Resource>(resourceType: T['resourceType'], query: Record<string, string>) {
      let bundle: Bundle = await retrying(`search ${resourceType}`, () => medplum.search(resourceType as ResourceType, new URLSearchParams(query), { maxRetries: 0 }));
      for (;;) {
        yield (bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType === resourceType ? [e.resource as T] : []));
        const next = bundle.link?.find((l) => l.relation === 'next')?.url;
        if (!next || (bundle.entry ?? []).length === 0) return;
        bundle = await retrying(`search ${resourceType}`, () => medplum.get<Bundle>(next, { maxRetries: 0, cache: 'no-cache' }));
      }
    },
    // Safe to retry: every entry of our transactions is conditional, so a replay creates nothing.
    // return=minimal: we keep each entry's status and versioned location, never the resources
    // echoed back (a delivery bundle carries its PDF twice, hundreds of KB to serialize and parse).
    postTransaction: (bundle: Bundle) => retrying('transaction', () => medplum.executeBatch(bundle, { maxRetries: 0, headers: { Prefer: 'return=minimal' } })),
  };
}

export function toSearchParams(query: SearchQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
  return params;
}

/** Turns any non-2xx into a SyncError right where the status is known (style.md "Errors"). */
function classifyingFetch(timeoutMs: number, auth: FhirAuth) {
  const token = auth.kind === 'client_credentials' ? createTokenSource(auth, timeoutMs) : undefined;
  return async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (token) headers.set('Authorization', `Bearer ${await token.get()}`);
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      throw SyncError.retryable('fhir_unavailable', `FHIR server unreachable (${describeNetworkError(cause)})`, { cause });
    }
    if (response.ok) return response;
    if (response.status === 401 && token) token.invalidate();
    const issues = await outcomeSummary(response);
    throw failureFromStatus(response.status, retryAfterMs(response.headers), issues);
  };
}

export function failureFromStatus(status: number, waitMs: number | undefined, issues: string): SyncError {
  const detail = issues ? `: ${issues}` : '';
  switch (classifyStatus(status)) {
    case 'unauthorized':
      return SyncError.permanent('fhir_unauthorized', `FHIR server refused our credentials (${status}); check FHIR_AUTH`);
    case 'rate_limited':
      return SyncError.retryable('fhir_rate_limited', `FHIR server answered 429${detail}`, { retryAfterMs: waitMs });
    case 'retryable':
      return SyncError.retryable('fhir_unavailable', `FHIR server answered ${status}${detail}`, { retryAfterMs: waitMs });
    case 'permanent':
      // 412 on a conditional write: several resources match the identifier; a person must merge.
      if (status === 412) return SyncError.permanent('fhir_conflicting_matches', `FHIR found several resources for a conditional write (412)${detail}`);
      // Any other 4xx refuses the same bundle again tomorrow: a person has to look.
      return SyncError.permanent('fhir_rejected_bundle', `FHIR refused the request (${status})${detail}`);
  }
}

/** OperationOutcome codes and expressions only: servers echo resource values in diagnostics. */
async function outcomeSummary(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { resourceType?: string; issue?: { code?: string; expression?: string[] }[] };
    if (body.resourceType !== 'OperationOutcome') return '';
    return (body.issue ?? [])
      .slice(0, 5)
      .map((i) => [i.code, ...(i.expression ?? [])].filter(Boolean).join(' '))
      .join('; ');
  } catch {
    return '';
  }
}

function describeNetworkError(cause: unknown): string {
  if (cause instanceof Error && cause.name === 'TimeoutError') return 'timed out';
  const code = (cause as { cause?: { code?: string } })?.cause?.code;
  return code ?? (cause instanceof Error ? cause.name : 'network error');
}

function toFhirError(error: unknown, what: string): SyncError {
  if (error instanceof SyncError) return error;
  // MedplumClient re-throws what our fetch threw; anything else is a malformed answer.
  const message = error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
  return SyncError.retryable('fhir_unavailable', `FHIR ${what} failed: ${message}`, { cause: error });
}
