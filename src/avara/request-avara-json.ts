import type { z } from 'zod';
import { SyncError } from '../errors.ts';
import { requestWithRetries, type RetrySettings } from '../upstream/request-with-retries.ts';
import { sendAttempt } from '../upstream/send-attempt.ts';
import { avaraAnswers } from './avara-failure.ts';

export interface AvaraHttpSettings extends RetrySettings {
  baseUrl: string;
  apiKey: string;
}

export interface AvaraRequest {
  operation: string;              // the client method, for metrics
  endpoint: string;               // "GET /v1/autoScribe/studies/{studyId}", for messages
  path: string;                   // the same with values filled in and encoded
  query?: URLSearchParams;
  method?: 'GET' | 'POST' | 'PATCH';
  body?: unknown;                 // sent as JSON
  /** Overrides settings.maxRetries; 0 for a create, which Avara cannot de-duplicate (§3). */
  maxRetries?: number;
}

/**
 * One call to Avara with the SDKs' short retries, its answer validated by `schema` and then by
 * `check`, inside the attempt: a call counts as failed when its answer is unusable.
 */
export function requestAvaraJson<S extends z.ZodType>(
  settings: AvaraHttpSettings, request: AvaraRequest, schema: S, check: (answer: z.output<S>) => void = () => undefined,
): Promise<z.output<S>> {
  return callAvara(settings, request, (_status, text) => {
    const answer = parseBody(request.endpoint, text, schema);
    check(answer);
    return answer;
  });
}

/** A lookup where 404 is an answer ("no such study"), given as null: the answer that allows a create. */
export function findAvaraJson<S extends z.ZodType>(
  settings: AvaraHttpSettings, request: AvaraRequest, schema: S,
): Promise<z.output<S> | null> {
  const accepts = (status: number) => (status >= 200 && status < 300) || status === 404;
  return callAvara(settings, request, (status, text) => (status === 404 ? null : parseBody(request.endpoint, text, schema)), accepts);
}

function callAvara<T>(
  settings: AvaraHttpSettings, request: AvaraRequest, read: (status: number, text: string) => T, accepts?: (status: number) => boolean,
): Promise<T> {
  const url = new URL(settings.baseUrl.replace(/\/+$/, '') + request.path);
  if (request.query) url.search = request.query.toString();
  const headers: Record<string, string> = { authorization: `Bearer ${settings.apiKey}`, accept: 'application/json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const init = { method: request.method ?? 'GET', headers, body: request.body === undefined ? undefined : JSON.stringify(request.body) };
  const answers = avaraAnswers(request.endpoint, settings.timeoutMs, accepts);
  return requestWithRetries({ ...settings, maxRetries: request.maxRetries ?? settings.maxRetries }, {
    operation: request.operation,
    attempt: async (attempt) => {
      const response = await sendAttempt(url, init, attempt, answers);
      // Read within the attempt: its timeout covers the body, so a stalled body cannot hold a worker.
      return read(response.status, await response.text());
    },
    failureWithoutAnswer: answers.failureFromNetwork,
  });
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
