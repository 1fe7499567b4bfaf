import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.ts';
import { requestWithRetries, type AttemptReport, type RetrySettings } from '../src/upstream/request-with-retries.ts';
import { sendAttempt, type AnswerClassifier } from '../src/upstream/send-attempt.ts';

interface Scripted { status: number; headers?: Record<string, string>; delayMs?: number }

interface ScriptedServer { url: string; arrivals: number[]; stop(): Promise<void> }

// Answers request n with script[n] (the last one repeats) and notes when each request arrived.
async function startScriptedServer(script: Scripted[]): Promise<ScriptedServer> {
  const arrivals: number[] = [];
  const server: Server = createServer((req, res) => {
    const answer = script[Math.min(arrivals.length, script.length - 1)]!;
    arrivals.push(performance.now());
    req.resume();
    setTimeout(() => res.writeHead(answer.status, answer.headers).end(answer.status === 200 ? '{"ok":true}' : '{}'), answer.delayMs ?? 0).unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/thing`,
    arrivals,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function refusedUrl(): Promise<string> {
  const server = await startScriptedServer([{ status: 200 }]);
  await server.stop();
  return server.url;
}

const answers: AnswerClassifier = {
  failureFromStatus: (response, retryAfterMs) => (response.status === 429 || response.status >= 500
    ? SyncError.retryable('fhir_unavailable', `answered ${response.status}`, { retryAfterMs })
    : SyncError.permanent('fhir_rejected_bundle', `answered ${response.status}`)),
  failureFromNetwork: (error) =>
    SyncError.retryable('fhir_unavailable', error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'unreachable', { cause: error }),
};

function getJson(url: string, settings: Partial<RetrySettings> = {}, reports: AttemptReport[] = []): Promise<unknown> {
  return requestWithRetries({ timeoutMs: 2000, maxRetries: 2, maxRetryAfterMs: 30_000, observe: (r) => reports.push(r), ...settings }, {
    operation: 'getThing',
    attempt: async (attempt) => (await sendAttempt(url, {}, attempt, answers)).json(),
    failureWithoutAnswer: answers.failureFromNetwork,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(error)}`);
  return error;
}

const servers: ScriptedServer[] = [];
async function serve(script: Scripted[]): Promise<ScriptedServer> {
  const server = await startScriptedServer(script);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('requestWithRetries over real HTTP', () => {
  it('waits the Retry-After a server asked for, with no backoff on top', async () => {
    const server = await serve([{ status: 503, headers: { 'retry-after': '1' } }, { status: 200 }]);
    expect(await getJson(server.url)).toEqual({ ok: true });
    const gap = server.arrivals[1]! - server.arrivals[0]!;
    // Backoff on top would add at least 375 ms (0.5 s with its 0.75-1.0 jitter): anything under
    // 1375 ms is Retry-After alone, and the margin absorbs a busy machine's scheduling.
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(gap).toBeLessThan(1370);
  });

  it('backs off when the server names no wait', async () => {
    const server = await serve([{ status: 503 }, { status: 200 }]);
    expect(await getJson(server.url)).toEqual({ ok: true });
    const gap = server.arrivals[1]! - server.arrivals[0]!;
    expect(gap).toBeGreaterThanOrEqual(370);
    expect(gap).toBeLessThan(1000);
  });

  it('hands a Retry-After longer than maxRetryAfterMs back as a retryable failure without sleeping', async () => {
    const server = await serve([{ status: 429, headers: { 'retry-after': '120' } }, { status: 200 }]);
    const started = performance.now();
    const failure = await failureOf(getJson(server.url));
    expect(performance.now() - started).toBeLessThan(1000);
    expect([failure.code, failure.retryable, failure.retryAfterMs]).toEqual(['fhir_unavailable', true, 120_000]);
    expect(server.arrivals).toHaveLength(1);
  });

  it('bounds each attempt by its own timeout, so a fast second attempt succeeds after a hung first', async () => {
    const server = await serve([{ status: 200, delayMs: 1500 }, { status: 200 }]);
    const started = performance.now();
    expect(await getJson(server.url, { timeoutMs: 200 })).toEqual({ ok: true });
    expect(performance.now() - started).toBeLessThan(1400);
    expect(server.arrivals).toHaveLength(2);
  });

  it('gives up after the last timed-out attempt with the network failure', async () => {
    const server = await serve([{ status: 200, delayMs: 1500 }]);
    const failure = await failureOf(getJson(server.url, { timeoutMs: 100, maxRetries: 1 }));
    expect([failure.code, failure.retryable, failure.message]).toEqual(['fhir_unavailable', true, 'timed out']);
    expect(server.arrivals).toHaveLength(2);
  });

  it('retries a refused connection and then classifies it as the upstream\'s network failure', async () => {
    const reports: AttemptReport[] = [];
    const failure = await failureOf(getJson(await refusedUrl(), { maxRetries: 1 }, reports));
    expect([failure.code, failure.retryable, failure.message]).toEqual(['fhir_unavailable', true, 'unreachable']);
    expect(reports.map((r) => [r.attempt, r.status, r.outcome, r.last])).toEqual([
      [1, undefined, 'fhir_unavailable', false],
      [2, undefined, 'fhir_unavailable', true],
    ]);
  });

  it('does not ask again after a verdict status', async () => {
    const server = await serve([{ status: 400 }, { status: 200 }]);
    const failure = await failureOf(getJson(server.url));
    expect([failure.code, failure.retryable]).toEqual(['fhir_rejected_bundle', false]);
    expect(server.arrivals).toHaveLength(1);
  });

  it('reports every attempt once to observe, with its status and outcome, the call\'s outcome last', async () => {
    const server = await serve([{ status: 503, headers: { 'retry-after-ms': '10' } }, { status: 500, headers: { 'retry-after-ms': '10' } }, { status: 200 }]);
    const reports: AttemptReport[] = [];
    await getJson(server.url, {}, reports);
    expect(reports.map((r) => [r.operation, r.attempt, r.status, r.outcome, r.last])).toEqual([
      ['getThing', 1, 503, 'fhir_unavailable', false],
      ['getThing', 2, 500, 'fhir_unavailable', false],
      ['getThing', 3, 200, 'ok', true],
    ]);
    expect(reports[2]!.elapsedMs).toBeGreaterThanOrEqual(reports[1]!.elapsedMs + 9);
    expect(reports[2]!.elapsedMs).toBeGreaterThanOrEqual(reports[2]!.attemptMs);
  });
});
