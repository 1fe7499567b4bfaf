import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WEBHOOK_GUARD_DEFAULTS } from '../src/http/guard-webhook-intake.ts';
import { startSlowRequest, within, type SlowRequest } from './support/slow-request.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const MIB = 1024 * 1024;
// Before issue 21 these requests waited for the body until Node's 300 s request timeout.
const AT_ONCE_MS = 5_000;

describe('POST /webhooks/avara against slow clients', () => {
  let env: TestEnv;
  let slow: SlowRequest[] = [];
  beforeEach(async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
  });
  afterEach(async () => {
    for (const request of slow) request.socket.destroy();
    slow = [];
    await env.stop();
  });

  const signedHeaders = (timestampSeconds?: number) => env.signedHeaders('{}', { timestampSeconds });
  const trickle = (headers: Record<string, string>) => {
    const request = startSlowRequest(env.app.url, '/webhooks/avara', headers, MIB, 1024);
    slow.push(request);
    return request;
  };

  it('answers 401 and closes the connection before the body arrives when the webhook headers are missing', async () => {
    const request = trickle({});
    expect(await within('answer without headers', AT_ONCE_MS, request.status)).toBe(401);
    await within('connection closed', AT_ONCE_MS, request.closed);
    expect(request.received()).toContain('missing_signature_headers');
  });

  it('answers 401 before the body arrives when the timestamp is outside the 5-minute tolerance', async () => {
    const request = trickle(signedHeaders(Math.floor(Date.now() / 1000) - 600));
    expect(await within('answer to a stale timestamp', AT_ONCE_MS, request.status)).toBe(401);
    expect(request.received()).toContain('stale_timestamp');
  });

  it('takes a burst of 200 small webhooks at once: the budget is bytes, and real bodies are a few hundred', async () => {
    const bodies = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `whe_burst_${i}`, type: 'some.future_event', data: {} }));
    const statuses = await Promise.all(bodies.map((body) => env.postWebhook(body, env.signedHeaders(body)).then((r) => r.status)));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('answers 503 with Retry-After at once to bodies beyond the ones it reads together', async () => {
    const held = Array.from({ length: WEBHOOK_GUARD_DEFAULTS.maxBytesInFlight / MIB }, () => trickle(signedHeaders()));
    await env.waitFor('held bodies reach the server', () => held.every((r) => r.socket.bytesWritten > 1024));
    const extra = trickle(signedHeaders());
    expect(await within('answer beyond the cap', AT_ONCE_MS, extra.status)).toBe(503);
    expect(extra.received()).toMatch(/retry-after: \d+/i);
  });

  it('keeps /healthz answering and webhooks delivering while slow senders hold bodies, then cuts them off', async () => {
    const held = Array.from({ length: WEBHOOK_GUARD_DEFAULTS.maxBytesInFlight / MIB - 4 }, () => trickle(signedHeaders()));
    const health = await fetch(`${env.app.url}/healthz`);
    expect(health.status).toBe(200);
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    // Bounded by the body timeout, not by Node's 300 s.
    const statuses = await within('slow senders cut off', WEBHOOK_GUARD_DEFAULTS.bodyTimeoutMs + 5_000, Promise.all(held.map((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([408]));
  });
});
