import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const TOKEN = 'session-test-admin-token-01';

describe('audit page sessions', () => {
  let env: TestEnv;
  afterEach(() => env.stop());
  const post = (path: string, headers: Record<string, string>, body = '') =>
    fetch(`${env.app.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, redirect: 'manual' });
  const signIn = async (headers: Record<string, string> = { origin: env.app.url }) => {
    const response = await post('/login', headers, `token=${TOKEN}`);
    expect(response.status).toBe(303);
    return response.headers.get('set-cookie')!;
  };
  const page = (cookie: string) => fetch(`${env.app.url}/`, { headers: { cookie }, redirect: 'manual' });

  it('gives every sign-in its own random session, and sign-out ends it on the server', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ADMIN_TOKEN: TOKEN } });
    const first = (await signIn()).split(';')[0]!;
    const second = (await signIn()).split(';')[0]!;
    expect(first).not.toBe(second);
    expect((await page(first)).status).toBe(200);
    expect((await post('/logout', { origin: env.app.url, cookie: first })).status).toBe(303);
    // The browser forgets the cookie; a copy kept elsewhere must be worthless too.
    expect((await page(first)).status).toBe(401);
    expect((await page(second)).status).toBe(200);
  });

  it('marks the cookie Secure behind a trusted TLS proxy, and checks the scheme of the Origin there', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ADMIN_TOKEN: TOKEN, TRUST_PROXY: 'loopback' } });
    const host = new URL(env.app.url).host;
    expect(await signIn({ origin: `https://${host}`, 'x-forwarded-proto': 'https' })).toMatch(/; Secure/);
    expect(await signIn({ origin: `http://${host}` })).not.toMatch(/; Secure/);
    expect((await post('/login', { origin: `http://${host}`, 'x-forwarded-proto': 'https' }, `token=${TOKEN}`)).status).toBe(403);
  });

  it('does not believe X-Forwarded-Proto without TRUST_PROXY', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ADMIN_TOKEN: TOKEN } });
    expect(await signIn({ origin: env.app.url, 'x-forwarded-proto': 'https' })).not.toMatch(/; Secure/);
  });
});
