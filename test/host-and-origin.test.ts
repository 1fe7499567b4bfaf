import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

/** fetch will not send a Host of our choosing; a DNS-rebound browser does. */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('loopback without ADMIN_TOKEN against other websites', () => {
  let env: TestEnv;
  let delivered: string;
  const port = () => new URL(env.app.url).port;
  const replay = (headers: Record<string, string>) =>
    fetch(`${env.app.url}/api/deliveries/${delivered}/replay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

  beforeAll(async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1);
    delivered = signed!.reportId;
    await env.waitForDelivery(delivered, 'delivered');
  });
  afterAll(() => env.stop());

  it('answers 421 to a DNS-rebound host name and serves its own loopback names', async () => {
    expect(await getWithHost(`${env.app.url}/`, `rebind.attacker.example:${port()}`)).toBe(421);
    expect(await getWithHost(`${env.app.url}/api/deliveries`, `rebind.attacker.example:${port()}`)).toBe(421);
    expect(await getWithHost(`${env.app.url}/`, `localhost:${port()}`)).toBe(200);
    expect(await getWithHost(`${env.app.url}/`, `127.0.0.1:${port()}`)).toBe(200);
  });

  it('never refuses health for its Host: a reverse proxy on this host forwards the public name', async () => {
    expect(await getWithHost(`${env.app.url}/healthz`, 'reports.hospital.example')).toBe(200);
    expect(await getWithHost(`${env.app.url}/readyz`, 'reports.hospital.example')).toBe(200);
  });

  it('leaves the Host check to the proxy when TRUST_PROXY names it, and still takes signed webhooks under any Host', async () => {
    const proxied = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, TRUST_PROXY: '127.0.0.1' } });
    try {
      const proxiedPort = new URL(proxied.app.url).port;
      expect(await getWithHost(`${proxied.app.url}/`, `reports.hospital.example:${proxiedPort}`)).toBe(200);
      const [signed] = await proxied.sandbox.signReports(1, { sendWebhooks: false });
      const response = await proxied.sendReportDelivered(signed!);
      expect(response.status).toBe(200);
      await proxied.waitForDelivery(signed!.reportId, 'delivered');
    } finally {
      await proxied.stop();
    }
  });

  it('refuses a cross-site form post to the API, and a post naming no origin', async () => {
    expect((await replay({ origin: 'http://evil.example' })).status).toBe(403);
    expect((await replay({})).status).toBe(403);
    expect(env.delivery(delivered)!.state).toBe('delivered');
  });

  it('refuses a state change even from its own origin, naming ADMIN_TOKENS: no one would be recorded as its operator', async () => {
    const response = await replay({ origin: env.app.url });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'operator_token_required', message: expect.stringContaining('ADMIN_TOKENS') });
    expect(env.delivery(delivered)!.state).toBe('delivered');
  });
});

describe('a state change with a bearer token', () => {
  let env: TestEnv;
  const TOKEN = 'origin-test-admin-token-01';
  beforeAll(async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ADMIN_TOKEN: TOKEN } });
  });
  afterAll(() => env.stop());

  it('needs no Origin: a cross-site form cannot send Authorization', async () => {
    const response = await fetch(`${env.app.url}/api/deliveries/rep_unknown/retry`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
  });
});
