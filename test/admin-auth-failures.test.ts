import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText } from './support/parse-prometheus-text.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const TOKEN = 'admin-token-for-the-guessing-test';
const GUESS = 'guess-number-seventeen-canary';

describe('guessing the admin token (issue 21, item 4)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ADMIN_TOKEN: TOKEN } });
  });
  afterAll(() => env.stop());

  const api = (token: string) => fetch(`${env.app.url}/api/deliveries`, { headers: { authorization: `Bearer ${token}` } });
  const signIn = (token: string) => fetch(`${env.app.url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: env.app.url },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });

  it('names the sign-in form\'s own limit when its body is too large, not the webhooks\' 1 MiB', async () => {
    const response = await fetch(`${env.app.url}/login`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: env.app.url },
      body: `token=${'x'.repeat(10_000)}`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'payload_too_large', message: 'body over 4096 bytes' });
  });

  it('after 10 refusals in a minute a source gets 429 with Retry-After, across the API and the sign-in form; each refusal is logged without the value and counted', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await api(`${GUESS}-${i}`)).status);
    for (let i = 0; i < 4; i++) statuses.push((await signIn(`${GUESS}-${i}`)).status);
    const scrape = await fetch(`${env.app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scrape.status).toBe(200); // nine refusals: the right token still works
    const metrics = parsePrometheusText(await scrape.text());
    expect(metrics.value('avara_fhir_sync_admin_auth_failures_total', { surface: 'api' })).toBe(5);
    expect(metrics.value('avara_fhir_sync_admin_auth_failures_total', { surface: 'page' })).toBe(4);
    statuses.push((await api(`${GUESS}-9`)).status);
    expect(statuses).toEqual(Array(10).fill(401));

    const blocked = await api(`${GUESS}-x`);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await signIn(TOKEN)).status).toBe(429); // even the right token waits: the guesser cannot tell
    expect((await api(TOKEN)).status).toBe(429);

    const refusals = env.logText().split('\n').filter((line) => line.includes('admin authentication refused'));
    expect(refusals).toHaveLength(10);
    expect(env.logText()).not.toContain(GUESS);
  });
});
