import type { z } from 'zod';
import { SyncError } from '../errors.ts';
import { failureFromNetwork, failureFromStatus, isRetryableStatus } from './avara-failure.ts';
import { retryAfterMs } from '../retry-policy.ts';
import { backoffMs } from './in-call-backoff.ts';
import { RetryableAttempt, withShortRetries } from './with-short-retries.ts';

export interface AvaraHttpSettings {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  maxRetries: number;
  maxRetryAfterMs: number;
}

export interface AvaraRequest {
  endpoint: string;               // "GET /v1/autoScribe/studies/{studyId}", for messages
  path: string;                   // the same with values filled in and encoded
  query?: URLSearchParams;
  method?: 'GET' | 'POST' | 'PATCH';
  body?: unknown;                 // sent as JSON
  /** Overrides settings.maxRetries; 0 for a create, which Avara cannot de-duplicate (§3). */
  maxRetries?: number;
}

/** One call to Avara with the SDKs' short retries, its answer validated by `schema`. */
export function requestAvaraJson<S extends z.ZodType>(
  settings: AvaraHttpSettings, request: AvaraRequest, schema: S,
): Promise<z.output<S>> {
  const url = new URL(settings.baseUrl.replace(/\/+$/, '') + request.path);
  if (request.query) url.search = request.query.toString();
  return withShortRetries(async (retryIndex) => {
    const body = await fetchOnce(settings, request, url, retryIndex);
    return parseBody(request.endpoint, body, schema);
  }, request.maxRetries ?? settings.maxRetries);
}

async function fetchOnce(settings: AvaraHttpSettings, request: AvaraRequest, url: URL, retryIndex: number): Promise<string> {
  const { endpoint } = request;
  let response: Response;
  let text: string;
  const headers: Record<string, string> = { authorization: `Bearer ${settings.apiKey}`, accept: 'application/json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  try {
    // The timeout covers headers and body, so a stalled body cannot hold a worker forever.
    response = await fetch(url, {
      method: request.method ?? 'GET',
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    throw new RetryableAttempt(failureFromNetwork(endpoint, error, settings.timeoutMs), backoffMs(retryIndex));
  }
  if (response.ok) return text;
  // Error bodies may echo PHI (§2); they are read to free the connection and dropped.
  const waitMs = retryAfterMs(response.headers);
  const failure = failureFromStatus(endpoint, response.status, waitMs);
  if (!isRetryableStatus(response.status, response.headers)) throw failure;
  // A long server-requested wait is the job queue's to honour, not a held worker's.
  if (waitMs !== undefined && waitMs > settings.maxRetryAfterMs) throw failure;
  throw new RetryableAttempt(failure, waitMs ?? backoffMs(retryIndex));
}

function parseBody<S extends z.ZodType>(endpoint: string, text: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw SyncError.permanent('avara_bad_response', `Avara ${endpoint} answered with a body that is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  // Paths and issue codes only: values may be patient data.
  const where = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'} ${issue.code}`);
  throw SyncError.permanent('avara_bad_response', `Avara ${endpoint} answered with an unexpected shape: ${where.join(', ')}`);
}
