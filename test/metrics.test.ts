import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Exposition } from './support/parse-prometheus-text.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const TOKEN = 'metrics-scrape-token-0001';
const isTransaction = (method: string, path: string) => method === 'POST' && /\/fhir\/R4\/?$/.test(path);

async function scrape(env: TestEnv, token: string | null = TOKEN): Promise<Exposition> {
  const response = await fetch(`${env.app.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

describe('GET /metrics', () => {
  const envs: TestEnv[] = [];
  afterEach(async () => {
    await Promise.all(envs.splice(0).map((e) => e.stop()));
  });

  it('parses as Prometheus text and its counters match the deliveries, failures and webhooks made', async () => {
    const env = await startTestEnv({ env: { ADMIN_TOKEN: TOKEN } });
    envs.push(env);
    const plain = await env.sandbox.signReports(2);
    const [critical] = await env.sandbox.signReports(1, { critical: true });
    for (const { reportId } of [...plain, critical!]) await env.waitForDelivery(reportId, 'delivered');
    env.fhir.faults.failNext(3, 500, { matcher: isTransaction }); // more than the client's in-call retries
    const [flaky] = await env.sandbox.signReports(1);
    await env.waitForDelivery(flaky!.reportId, 'delivered');
    const body = JSON.stringify({ id: 'whe_x', type: 'report.delivered', data: {} });
    expect((await env.postWebhook(body, env.signedHeaders(body, { key: `whsec_${Buffer.from('another key entirely').toString('base64')}` }))).status).toBe(401);

    // Counted after each commit, by a message from the delivery thread (see the test below).
    await env.waitFor('the last delivery counted', async () => (await scrape(env)).value('avara_fhir_sync_deliveries_total', { outcome: 'delivered' }) >= 4);
    const m = await scrape(env);
    expect(m.types.get('avara_fhir_sync_deliveries_total')).toBe('counter');
    expect(m.value('avara_fhir_sync_deliveries_total', { outcome: 'delivered' })).toBe(4);
    expect(m.value('avara_fhir_sync_deliveries_total', { outcome: 'failed' })).toBe(1);
    expect(m.value('avara_fhir_sync_delivery_failures_total', { code: 'fhir_unavailable' })).toBe(1);
    expect(m.value('avara_fhir_sync_critical_reports_delivered_total')).toBe(1);
    expect(m.value('avara_fhir_sync_webhooks_received_total', { type: 'report.delivered', outcome: 'stored' })).toBe(4);
    expect(m.value('avara_fhir_sync_webhooks_received_total', { outcome: 'bad_signature' })).toBe(1);
    expect(m.value('avara_fhir_sync_queue_depth', { state: 'delivered' })).toBe(4);
    expect(m.value('avara_fhir_sync_queue_depth', { state: 'queued' })).toBe(0);
    expect(m.value('avara_fhir_sync_queue_oldest_age_seconds')).toBe(0);
    expect(m.value('avara_fhir_sync_delivery_duration_seconds_count', { outcome: 'delivered' })).toBe(4);
    expect(m.value('avara_fhir_sync_delivery_duration_seconds_bucket', { outcome: 'delivered', le: '+Inf' })).toBe(4);
    expect(m.value('avara_fhir_sync_upstream_request_duration_seconds_count', { upstream: 'fhir', operation: 'postTransaction', outcome: 'ok' })).toBe(4);
    expect(m.value('avara_fhir_sync_upstream_request_duration_seconds_count', { upstream: 'fhir', operation: 'postTransaction', outcome: 'fhir_unavailable' })).toBe(1);
    expect(m.value('avara_fhir_sync_upstream_request_duration_seconds_count', { upstream: 'avara', operation: 'getStudy', outcome: 'ok' })).toBeGreaterThanOrEqual(5);
    expect(m.value('avara_fhir_sync_upstream_auth_ok', { upstream: 'fhir' })).toBe(1);
    expect(m.value('avara_fhir_sync_upstream_last_success_timestamp_seconds', { upstream: 'fhir' })).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(m.types.get('process_cpu_user_seconds_total')).toBe('counter');
  });

  it('counts buckets cumulatively', async () => {
    const env = await startTestEnv({ env: { ADMIN_TOKEN: TOKEN } });
    envs.push(env);
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    const buckets = (await scrape(env)).samples.filter((s) => s.name === 'avara_fhir_sync_delivery_duration_seconds_bucket' && s.labels.outcome === 'delivered');
    const counts = buckets.map((b) => b.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(1);
  });

  it('shows the oldest waiting delivery\'s age and queue depth while FHIR is down', async () => {
    const env = await startTestEnv({ env: { ADMIN_TOKEN: TOKEN } });
    envs.push(env);
    await env.fhir.faults.down();
    const [signed] = await env.sandbox.signReports(1);
    await env.waitFor('a failed attempt', () => env.delivery(signed!.reportId)?.lastErrorCode === 'fhir_unavailable');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const m = await scrape(env);
    expect(m.value('avara_fhir_sync_queue_oldest_age_seconds')).toBeGreaterThanOrEqual(1);
    expect(m.value('avara_fhir_sync_queue_depth', { state: 'failed' }) + m.value('avara_fhir_sync_queue_depth', { state: 'in_progress' })).toBe(1);
    await env.fhir.faults.up();
  });

  it('refuses a scrape without the admin token, and keeps two apps in one process apart', async () => {
    const first = await startTestEnv({ env: { ADMIN_TOKEN: TOKEN } });
    envs.push(first);
    const second = await startTestEnv({ env: { ADMIN_TOKEN: TOKEN } });
    envs.push(second);
    expect((await fetch(`${first.app.url}/metrics`)).status).toBe(401);
    const [signed] = await first.sandbox.signReports(1);
    await first.waitForDelivery(signed!.reportId, 'delivered');
    // The delivery thread counts a delivery after its commit, by a message to the main thread:
    // the row can read delivered a moment before the counter has it.
    await first.waitFor('the delivery counted', async () => (await scrape(first)).value('avara_fhir_sync_deliveries_total', { outcome: 'delivered' }) > 0);
    expect((await scrape(first)).value('avara_fhir_sync_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect((await scrape(second)).value('avara_fhir_sync_deliveries_total', { outcome: 'delivered' })).toBe(0);
  });
});
