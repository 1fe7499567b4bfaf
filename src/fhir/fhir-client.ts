import { MedplumClient, type MedplumRequestOptions } from '@medplum/core';
import type { Bundle, Resource, ResourceType } from '@medplum/fhirtypes';
import type { FhirAuth } from '../config/load-config.ts';
import { SyncError } from '../errors.ts';
import { AttemptFailed, requestWithRetries, type ObserveAttempt } from '../upstream/request-with-retries.ts';
import { sendAttempt, type AnswerClassifier } from '../upstream/send-attempt.ts';
import { createTokenSource } from './client-credentials.ts';
import { jsonBody } from './json-body.ts';
import { classifyStatus } from '../upstream/retry-policy.ts';
import { describeNetworkFailure } from '../upstream/network-failure.ts';
import type { UpstreamRequest } from '../upstream/node-http-transport.ts';
import type { UpstreamResponse } from '../upstream/upstream-response.ts';

/** What Medplum hands its `fetch` (plain-object headers) and what `create` sends. */
type FhirRequest = UpstreamRequest & { headers?: Record<string, string> };

export interface FhirClientSettings {
  baseUrl: string;
  auth: FhirAuth;
  timeoutMs?: number;
  /** Short in-call retries; longer waits go back to the delivery queue. */
  maxRetries?: number;
  maxRetryAfterMs?: number;
  /** Every attempt of every call but searchPages', e.g. for metrics. */
  observe?: ObserveAttempt;
}

/** A parameter given several values (e.g. `occurrence: ['ge2026-11-20', 'le2026-11-21']`) repeats in the URL: AND. */
export type SearchQuery = Record<string, string | string[]>;

/** Where the server put a created resource (its `Location`). */
export interface CreatedResource {
  id: string;
  versionId: string | undefined;
}

export interface FhirClient {
  search<T extends Resource>(resourceType: T['resourceType'], query: SearchQuery): Promise<T[]>;
  postTransaction(bundle: Bundle): Promise<Bundle>;
  /**
   * One plain `POST <type>` (no If-None-Exist). Never sent twice within the call: after a timeout,
   * a dropped connection or a 5xx the resource may exist, and only the caller can look for it.
   */
  create(resource: Resource): Promise<CreatedResource>;
  /** Every page of a search, following the server's `next` links (each page retried on its own). */
  searchPages<T extends Resource>(resourceType: T['resourceType'], query: Record<string, string>): AsyncGenerator<T[], void, undefined>;
  readonly baseUrl: string;
}

export function createFhirClient(settings: FhirClientSettings): FhirClient {
  const timeoutMs = settings.timeoutMs ?? 60_000;
  const fetchClassified = classifyingFetch({ baseUrl: settings.baseUrl, timeoutMs }, settings.auth);
  const medplum = new MedplumClient({
    baseUrl: `${settings.baseUrl}/`,
    fhirUrlPath: '',
    cacheTime: 0,
    autoBatchTime: 0,
    // Medplum reads status, headers.get, json() and text() of what its fetch returns, all of
    // which UpstreamResponse has.
    fetch: fetchClassified as unknown as (url: string, options?: RequestInit) => Promise<Response>,
  });
  if (settings.auth.kind === 'basic') medplum.setBasicAuth(settings.auth.username, settings.auth.password);
  if (settings.auth.kind === 'bearer') medplum.setAccessToken(settings.auth.token);

  const retry = { timeoutMs, maxRetries: settings.maxRetries ?? 2, maxRetryAfterMs: settings.maxRetryAfterMs ?? 30_000 };
  // Medplum's own retries stay off (maxRetries: 0): the loop is the shared one, and each
  // attempt's timeout reaches classifyingFetch as the request's signal. `operation` names the
  // call for `observe`; a call without one is not observed.
  const retrying = <T>(what: string, call: (options: MedplumRequestOptions) => Promise<T>, operation?: string): Promise<T> =>
    requestWithRetries({ ...retry, observe: operation === undefined ? undefined : settings.observe }, {
      operation: operation ?? what,
      attempt: ({ signal }) => call({ maxRetries: 0, signal }),
      failureWithoutAnswer: (error) => toFhirError(error, what),
    });

  return {
    baseUrl: settings.baseUrl,
    search: <T extends Resource>(resourceType: T['resourceType'], query: SearchQuery) =>
      retrying(`search ${resourceType}`, async (options) => {
        const bundle = await medplum.search(resourceType as ResourceType, toSearchParams(query), options);
        const resources: Resource[] = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource as Resource] : []));
        return resources.filter((r): r is T => r.resourceType === resourceType);
      }, `search:${resourceType}`),
    async *searchPages<T extends Resource>(resourceType: T['resourceType'], query: Record<string, string>) {
      // Unobserved, as before the shared loop: sweeps page through here, and their pages would
      // add series to the upstream metrics that dashboards do not expect.
      let bundle: Bundle = await retrying(`search ${resourceType}`, (options) => medplum.search(resourceType as ResourceType, new URLSearchParams(query), options));
      for (;;) {
        yield (bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType === resourceType ? [e.resource as T] : []));
        const next = bundle.link?.find((l) => l.relation === 'next')?.url;
        if (!next || (bundle.entry ?? []).length === 0) return;
        bundle = await retrying(`search ${resourceType}`, (options) => medplum.get<Bundle>(next, { ...options, cache: 'no-cache' }));
      }
    },
    // Safe to retry: every entry of our transactions is conditional, so a replay creates nothing.
    // return=minimal: we keep each entry's status and versioned location, never the resources
    // echoed back (a delivery bundle carries its PDF twice, hundreds of KB to serialize and parse).
    // The body is serialized once for all attempts, as bytes (jsonBody), where executeBatch would
    // stringify the bundle and fetch encode that string again on every attempt.
    postTransaction: (bundle: Bundle) => {
      const body = jsonBody(bundle);
      return retrying('transaction', (options): Promise<Bundle> => medplum.post(medplum.fhirUrl(), body, undefined, { ...options, headers: { Prefer: 'return=minimal' } }), 'postTransaction');
    },
    // Beside Medplum's client, which keeps the answer's Location to itself; same fetch, same auth.
    create: (resource: Resource) =>
      requestWithRetries({ ...retry, maxRetries: 0, observe: settings.observe }, {
        operation: `create:${resource.resourceType}`,
        async attempt({ signal }) {
          const headers: Record<string, string> = { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json', Prefer: 'return=minimal' };
          const authorization = staticAuthorization(settings.auth);
          if (authorization) headers.Authorization = authorization;
          const response = await fetchClassified(`${settings.baseUrl}/${resource.resourceType}`, { method: 'POST', headers, body: JSON.stringify(resource), signal });
          return createdResource(resource.resourceType, response);
        },
        failureWithoutAnswer: (error) => toFhirError(error, `create ${resource.resourceType}`),
      }),
  };
}

function staticAuthorization(auth: FhirAuth): string | undefined {
  if (auth.kind === 'basic') return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  if (auth.kind === 'bearer') return `Bearer ${auth.token}`;
  return undefined;
}

/** The id from `Location` (`[base/]Type/id[/_history/vid]`), else from a returned body. */
async function createdResource(resourceType: string, response: UpstreamResponse): Promise<CreatedResource> {
  const location = response.headers.get('location') ?? '';
  const match = new RegExp(`(?:^|/)${resourceType}/([A-Za-z0-9\\-.]{1,64})(?:/_history/([A-Za-z0-9\\-.]{1,64}))?/?$`).exec(location);
  if (match) {
    await response.body?.cancel();
    return { id: match[1]!, versionId: match[2] };
  }
  const body = (await response.json().catch(() => undefined)) as { resourceType?: string; id?: string; meta?: { versionId?: string } } | undefined;
  if (body?.resourceType === resourceType && body.id) return { id: body.id, versionId: body.meta?.versionId };
  // Written, by the status, but not where: the caller's search finds it.
  throw SyncError.retryable('fhir_readback_failed', `FHIR answered ${response.status} to a ${resourceType} create without naming the resource`);
}

export function toSearchParams(query: SearchQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
  return params;
}

/** Turns any non-2xx into FHIR's SyncError right where the status is known (style.md "Errors"), for the loop. */
function classifyingFetch(settings: { baseUrl: string; timeoutMs: number }, auth: FhirAuth) {
  const tokens = auth.kind === 'client_credentials' || auth.kind === 'private_key_jwt' ? createTokenSource(auth, settings) : undefined;
  const answers: AnswerClassifier = {
    failureFromStatus: async (response, waitMs) => failureFromStatus(response.status, waitMs, await outcomeSummary(response)),
    // The code and host:port (`ECONNREFUSED 10.1.2.3:443`), never the URL's path or query.
    failureFromNetwork: (cause) => SyncError.retryable('fhir_unavailable', `FHIR server unreachable (${describeNetworkFailure(cause, settings.baseUrl).text})`, { cause }),
  };
  const send = (url: string, init: FhirRequest, bearer: string | undefined) => {
    const headers = bearer === undefined ? init.headers : { ...withoutAuthorization(init.headers), Authorization: `Bearer ${bearer}` };
    return sendAttempt(url, { ...init, headers }, { signal: init.signal ?? AbortSignal.timeout(settings.timeoutMs) }, answers);
  };
  return async (url: string, init: FhirRequest): Promise<UpstreamResponse> => {
    if (!tokens) return send(url, init, undefined);
    const used = await bearerToken(tokens);
    try {
      return await send(url, init, used);
    } catch (error) {
      if (!(error instanceof AttemptFailed && error.status === 401)) throw error;
      // A server may revoke a token before expires_in (restart, key rotation): one new token,
      // one resend. A 401 for that one too is refused credentials (fhir_unauthorized).
      tokens.invalidate(used);
      const fresh = await bearerToken(tokens);
      try {
        return await send(url, init, fresh);
      } catch (again) {
        if (again instanceof AttemptFailed && again.status === 401) tokens.invalidate(fresh);
        throw again;
      }
    }
  };
}

/** Medplum's headers are a plain object; a bearer token replaces whatever Authorization it set. */
function withoutAuthorization(headers: FhirRequest['headers']): Record<string, string> {
  const plain: Record<string, string> = {};
  for (const [name, value] of Object.entries((headers ?? {}) as Record<string, string>)) if (name.toLowerCase() !== 'authorization') plain[name] = value;
  return plain;
}

/** A token endpoint that is down is as retryable within the call as the FHIR server itself. */
async function bearerToken(token: { get(): Promise<string> }): Promise<string> {
  try {
    return await token.get();
  } catch (error) {
    throw error instanceof SyncError ? new AttemptFailed(error, error.retryable) : error;
  }
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
async function outcomeSummary(response: UpstreamResponse): Promise<string> {
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

function toFhirError(error: unknown, what: string): SyncError {
  // What our fetch threw reaches the loop as it was; anything else is a malformed answer.
  const message = error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
  return SyncError.retryable('fhir_unavailable', `FHIR ${what} failed: ${message}`, { cause: error });
}
