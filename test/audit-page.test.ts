import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueDelivery } from '../src/store/deliveries.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const TOKEN = 'page-test-admin-token-0001';

describe('audit page over HTTP', () => {
  let env: TestEnv;
  let cookie: string;
  let delivered: string;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${env.app.url}${path}`, { headers, redirect: 'manual' });
  const post = (path: string, headers: Record<string, string>, body = '') =>
    fetch(`${env.app.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, redirect: 'manual' });

  beforeAll(async () => {
    env = await startTestEnv({ env: { ADMIN_TOKEN: TOKEN } });
    const [signed] = await env.sandbox.signReports(1);
    delivered = signed!.reportId;
    await env.waitForDelivery(delivered, 'delivered');
    const login = await get(`/?token=${TOKEN}`);
    cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  });
  afterAll(async () => {
    await env.stop();
  });

  it('answers 401 with a sign-in form without a token, and says so when the token is wrong', async () => {
    const bare = await get('/');
    expect(bare.status).toBe(401);
    const text = await bare.text();
    expect(text).toContain('name="token"');
    expect(text).not.toContain(delivered);
    const wrong = await get('/?token=not-the-admin-token');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That token was refused');
    expect((await get(`/deliveries/${delivered}`)).status).toBe(401);
  });

  it('trades ?token= for an HttpOnly SameSite=Strict cookie that holds no token, and redirects the token away', async () => {
    const response = await get(`/?state=delivered&token=${TOKEN}`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/?state=delivered');
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(TOKEN);
  });

  it('signs in through the login form from this origin only', async () => {
    const origin = env.app.url;
    const ok = await post('/login', { origin }, `token=${TOKEN}&next=/deliveries/${delivered}`);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/deliveries/${delivered}`);
    expect((await post('/login', { origin }, 'token=wrong-token-value-xx')).status).toBe(401);
    expect((await post('/login', { origin: 'http://evil.example' }, `token=${TOKEN}`)).status).toBe(403);
    expect((await post('/login', {}, `token=${TOKEN}`)).status).toBe(403);
    const offsite = await post('/login', { origin }, `token=${TOKEN}&next=//evil.example/`);
    expect(offsite.headers.get('location')).toBe('/');
    for (const next of ['/\\evil.example/', '/%5Cevil.example/x', 'https://evil.example/', '\\\\evil.example']) {
      const redirected = await post('/login', { origin }, `token=${TOKEN}&next=${encodeURIComponent(next)}`);
      expect(new URL(redirected.headers.get('location')!, origin).origin, next).toBe(origin);
    }
  });

  it('lists deliveries with counts by state, a 24 h chart and links to the FHIR resources, without any script', async () => {
    const response = await get('/', { cookie });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    expect(page).toContain('delivered (1)');
    expect(page).toContain('<svg');
    expect(page).toContain(`href="/deliveries/${delivered}"`);
    expect(page).toContain(`href="${env.fhir.baseUrl}/DiagnosticReport/`);
    expect(page).not.toMatch(/<script/i);
  });

  it('shows a delivery with its attempts, audit trail and FHIR links, and a Replay form', async () => {
    const page = await (await get(`/deliveries/${delivered}`, { cookie })).text();
    expect(page).toContain('attempt_started');
    expect(page).toMatch(/<form class="inline" method="post" action="\/deliveries\/rep_[0-9a-f]+\/replay">/);
    expect(page).toContain(`${env.fhir.baseUrl}/Patient/`);
    expect((await get('/deliveries/rep_unknown', { cookie })).status).toBe(404);
  });

  it('answers 400 with a message for a bad filter', async () => {
    const response = await get('/?cursor=garbage', { cookie });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('cursor: not a cursor');
  });

  it('refuses a Retry or Replay posted from another origin even with a valid cookie, and changes nothing', async () => {
    const before = env.delivery(delivered)!.updatedAt;
    expect((await post(`/deliveries/${delivered}/replay`, { cookie, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(`/deliveries/${delivered}/replay`, { cookie, referer: 'http://evil.example/x' })).status).toBe(403);
    expect((await post(`/deliveries/${delivered}/replay`, { cookie })).status).toBe(403);
    expect((await post(`/deliveries/${delivered}/replay`, { origin: env.app.url })).status).toBe(401);
    expect(env.delivery(delivered)!.updatedAt).toBe(before);
  });

  it('replays from a same-origin form post and redirects back to the delivery', async () => {
    const response = await post(`/deliveries/${delivered}/replay`, { cookie, origin: env.app.url });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/deliveries/${delivered}?done=requeued`);
    await env.waitFor('the replay', () => env.delivery(delivered)?.state === 'delivered' && env.delivery(delivered)!.attempts === 1);
  });

  it('escapes ids and messages: markup in data is shown as text', async () => {
    const hostile = 'rep_<img src=x onerror=alert(1)>';
    sqliteOf(env.app).db.transaction((tx) => enqueueDelivery(tx, { reportId: hostile, studyId: 'stu_"><script>x</script>', source: 'cli' }, Date.now() + 3_600_000));
    const list = await (await get('/', { cookie })).text();
    expect(list).not.toContain('<img src=x');
    expect(list).toContain('rep_&lt;img src=x onerror=alert(1)&gt;');
    expect(list).not.toContain('<script>x');
    const detail = await (await get(`/deliveries/${encodeURIComponent(hostile)}`, { cookie })).text();
    expect(detail).not.toContain('<img src=x');
  });
});
