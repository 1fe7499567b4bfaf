import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOperator } from '../src/commands/cli-operator.ts';
import { sha256Hex } from '../src/config/admin-operators.ts';
import { ConfigError } from '../src/config/config-error.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { parsePrometheusText } from './support/parse-prometheus-text.ts';
import { runCli } from './support/run-cli.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const SERVE = {
  AVARA_API_KEY: 'sk_live_0123456789abcdef0123456789abcdef',
  AVARA_WEBHOOK_KEY: 'whsec_aOIOjHX2f9EZlBx83v4B6sCOuq9thgxS',
  FHIR_BASE_URL: 'http://127.0.0.1:8103/fhir/R4',
  MRN_SYSTEM: 'urn:oid:2.16.840.1.113883.19.5',
  STUDY_TIME_ZONE: 'America/Chicago',
};
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-abcdefghijkl';
const SHARED = 'the-old-shared-admin-token';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...SERVE, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('configuration was accepted');
}

describe('ADMIN_TOKENS', () => {
  it('keeps every operator, ADMIN_TOKEN as admin, by SHA-256 digest only', () => {
    const config = loadConfig({ ...SERVE, ADMIN_TOKENS: ` alice:${ALICE} , bob:${BOB}`, ADMIN_TOKEN: SHARED });
    expect(config.http.adminOperators).toEqual([
      { name: 'admin', tokenSha256: sha256Hex(SHARED) },
      { name: 'alice', tokenSha256: sha256Hex(ALICE) },
      { name: 'bob', tokenSha256: sha256Hex(BOB) },
    ]);
    expect(JSON.stringify(config)).not.toContain(ALICE);
  });

  it('refuses malformed entries, short tokens, and a name or token given twice, naming the variable and never a token', () => {
    const cases: [string, RegExp][] = [
      [ALICE, /^ADMIN_TOKENS: entry 1 must be name:token/],
      [`al ice:${ALICE}`, /entry 1 must be name:token/],
      [`alice:${ALICE},bob:short`, /the token of bob must be at least 16 characters/],
      [`alice:${ALICE},alice:${BOB}`, /names operator alice twice/],
      [`alice:${ALICE},bob:${ALICE}`, /gives bob the same token as alice/],
      [',', /names no operator/],
    ];
    for (const [value, message] of cases) {
      const error = configError({ ADMIN_TOKENS: value });
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(ALICE);
    }
  });

  it('refuses ADMIN_TOKENS that reuse ADMIN_TOKEN or name an operator admin, with the other problems of the start', () => {
    expect(configError({ ADMIN_TOKEN: SHARED, ADMIN_TOKENS: `bob:${SHARED}` }).message).toBe('ADMIN_TOKENS: gives bob the same token as ADMIN_TOKEN; keep one of them');
    expect(configError({ ADMIN_TOKEN: SHARED, ADMIN_TOKENS: `bob:${SHARED}`, PORT: 'x' }).message).toMatch(/PORT: .*; ADMIN_TOKENS: gives bob the same token/);
    expect(configError({ ADMIN_TOKEN: SHARED, ADMIN_TOKENS: `admin:${ALICE}` }).message).toMatch(/^ADMIN_TOKENS: names operator admin/);
  });
});

describe('the CLI operator', () => {
  it('is the OS account, else $USER, else the uid', () => {
    expect(cliOperator({}, () => 'radtech')).toBe('cli:radtech');
    expect(cliOperator({ USER: 'from-env' }, () => { throw new Error('no passwd entry'); })).toBe('cli:from-env');
    expect(cliOperator({}, () => { throw new Error('no passwd entry'); })).toMatch(/^cli:uid-\d+$/);
  });
});

describe('named actions through the API, the page and the CLI', () => {
  let env: TestEnv;
  let dead: string[];
  const api = (path: string, init: RequestInit = {}, token = ALICE) =>
    fetch(`${env.app.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  const lastEvent = async (reportId: string, event: string) => (await env.app.store.audit.ofReport(reportId)).filter((e) => e.event === event).at(-1)?.detail;

  beforeAll(async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ADMIN_TOKENS: `alice:${ALICE},bob:${BOB}`, ADMIN_TOKEN: SHARED, MAX_ATTEMPTS: '1' } });
    await env.fhir.faults.down();
    dead = (await env.sandbox.signReports(4)).map((r) => r.reportId);
    for (const id of dead) await env.waitForDelivery(id, 'dead');
  });
  afterAll(() => env.stop());

  it('records the token\'s operator and the reason of an API retry; the reason never reaches the log', async () => {
    const reason = 'Mrs Canary-Reason called; EHR back after maintenance';
    const response = await api(`/api/deliveries/${dead[0]}/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason }) });
    expect(response.status).toBe(202);
    expect(await lastEvent(dead[0]!, 'retried')).toMatchObject({ by: 'api', operator: 'alice', reason });
    expect(env.logText()).not.toContain('Canary-Reason');
  });

  it('records ADMIN_TOKEN as operator admin, with no reason when none was given', async () => {
    expect((await api(`/api/deliveries/${dead[1]}/retry`, { method: 'POST' }, SHARED)).status).toBe(202);
    const detail = await lastEvent(dead[1]!, 'retried');
    expect(detail).toMatchObject({ by: 'api', operator: 'admin' });
    expect(detail).not.toHaveProperty('reason');
  });

  it('answers 400 for a reason that is too long or not text, and changes nothing', async () => {
    for (const reason of ['x'.repeat(501), 42]) {
      const response = await api(`/api/deliveries/${dead[2]}/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason }) });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_body', fields: ['reason'] });
    }
    expect(env.delivery(dead[2]!)!.state).toBe('dead');
  });

  it('refuses an unknown operator token with 401 and counts it with the other refusals', async () => {
    const response = await api(`/api/deliveries/${dead[2]}/retry`, { method: 'POST' }, 'carol-token-not-configured');
    expect(response.status).toBe(401);
    const metrics = parsePrometheusText(await (await api('/metrics', {}, BOB)).text());
    expect(metrics.value('avara_fhir_sync_admin_auth_failures_total', { surface: 'api' })).toBe(1);
    expect(env.logText()).not.toContain('carol-token');
    expect(env.delivery(dead[2]!)!.state).toBe('dead');
  });

  it('shows the signed-in operator on the page and records them and the form\'s reason on a page retry', async () => {
    const signIn = await fetch(`${env.app.url}/login`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: env.app.url },
      body: new URLSearchParams({ token: BOB, next: '/' }).toString(),
    });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${env.app.url}/deliveries/${dead[2]}`, { headers: { cookie } })).text();
    expect(page).toContain('Signed in as <b>bob</b>');
    expect(page).toMatch(/<input name="reason" maxlength="500"/);

    const retry = await fetch(`${env.app.url}/deliveries/${dead[2]}/retry`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: env.app.url, cookie },
      body: new URLSearchParams({ target: 'fhir', reason: '  INC-4411 <script>  ' }).toString(),
    });
    expect(retry.status).toBe(303);
    expect(await lastEvent(dead[2]!, 'retried')).toMatchObject({ by: 'audit_page', operator: 'bob', reason: 'INC-4411 <script>' });
    const trail = await (await fetch(`${env.app.url}/deliveries/${dead[2]}`, { headers: { cookie } })).text();
    expect(trail).toContain('INC-4411 &lt;script&gt;');
  });

  it('records the OS user and --reason of a CLI retry', async () => {
    const result = await runCli(['retry', dead[3]!, '--reason', 'after the EHR fix'], { SQLITE_PATH: sqliteOf(env.app).path, USER: 'fallback-user' });
    expect(result.code).toBe(0);
    const detail = await lastEvent(dead[3]!, 'retried') as { operator: string; by: string; reason: string };
    expect(detail).toMatchObject({ by: 'cli', reason: 'after the EHR fix' });
    expect(detail.operator).toMatch(/^cli:\S+$/);

    const long = await runCli(['retry', dead[3]!, '--reason', 'x'.repeat(501)], { SQLITE_PATH: sqliteOf(env.app).path });
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('must be at most 500 characters');
  });
});

describe('a loopback HOST without any token', () => {
  let env: TestEnv;
  let delivered: string;
  beforeAll(async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1);
    delivered = signed!.reportId;
    await env.waitForDelivery(delivered, 'delivered');
  });
  afterAll(() => env.stop());

  it('serves reads on the API and the page', async () => {
    expect((await fetch(`${env.app.url}/api/deliveries/${delivered}`)).status).toBe(200);
    expect((await fetch(`${env.app.url}/deliveries/${delivered}`)).status).toBe(200);
  });

  it('refuses a replay through the API with 403 JSON naming ADMIN_TOKENS, and through the page with 403 HTML', async () => {
    const viaApi = await fetch(`${env.app.url}/api/deliveries/${delivered}/replay`, { method: 'POST' });
    expect(viaApi.status).toBe(403);
    expect(await viaApi.json()).toMatchObject({ error: 'operator_token_required', message: expect.stringContaining('ADMIN_TOKENS') });

    const viaPage = await fetch(`${env.app.url}/deliveries/${delivered}/replay`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: env.app.url },
      body: new URLSearchParams({ target: 'fhir' }).toString(),
    });
    expect(viaPage.status).toBe(403);
    expect(viaPage.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await viaPage.text()).toContain('ADMIN_TOKENS');
    expect(env.delivery(delivered)!.state).toBe('delivered');
    expect((await env.app.store.audit.ofReport(delivered)).some((e) => e.event === 'replayed')).toBe(false);
  });
});
