import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { writeSigningKey, type TestSigningKey } from './support/smart-signing-keys.ts';

const CLIENT_ID = 'avara-fhir-sync-e2e';

describe('deliveries through a SMART Backend Services EHR', () => {
  let dir: string;
  let key: TestSigningKey;
  let otherKey: TestSigningKey;
  let env: TestEnv | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-smart-e2e-'));
    key = await writeSigningKey(dir, 'RS384');
    otherKey = await writeSigningKey(dir, 'RS384', 'not-registered');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  const start = (signWith: TestSigningKey, extra: Record<string, string> = {}) => startTestEnv({
    env: { FHIR_AUTH: 'private_key_jwt', FHIR_CLIENT_ID: CLIENT_ID, FHIR_PRIVATE_KEY_FILE: signWith.file, LOG_LEVEL: 'trace', ...extra },
    fhir: { auth: { smart: { jwks: key.jwks, clientId: CLIENT_ID } } },
  });
  const storedReports = (e: TestEnv) => e.fhir.repository.searchResources({ resourceType: 'DiagnosticReport' });

  it('delivers a signed report with a token from the discovered token endpoint, and logs neither key nor token', async () => {
    env = await start(key);
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(await storedReports(env)).toHaveLength(1);
    const logs = env.logText();
    const keyBody = key.pem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
    for (const line of keyBody) expect(logs).not.toContain(line);
    // Tokens are random base64url; none of the store's issued ones may appear in the log.
    expect(env.fhir.smart!.tokensIssued()).toBeGreaterThan(0);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    for (const token of env.fhir.smart!.issuedTokens()) expect(logs).not.toContain(token);
  });

  it('pauses the worker with fhir_unauthorized and writes nothing when the key is not the registered one', async () => {
    env = await start(otherKey, { FHIR_KEY_ID: key.kid });
    const [signed] = await env.sandbox.signReports(1);
    const alert = await env.waitFor('the credentials alert', () => env!.logText().split('\n').find((line) => line.includes('credentials_refused')));
    expect(JSON.parse(alert)).toMatchObject({ code: 'fhir_unauthorized' });
    const row = env.delivery(signed!.reportId)!;
    expect(row.state).toBe('queued');
    expect(row.attempts).toBe(0);
    expect(await storedReports(env)).toHaveLength(0);
    expect(env.fhir.requests().filter((r) => r.method !== 'GET')).toHaveLength(0);
  });

  it('serves the public key at /.well-known/jwks.json without a token, never its private members', async () => {
    env = await start(key);
    const response = await fetch(`${env.app.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    const jwks = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', kid: key.kid, alg: 'RS384', use: 'sig', n: key.jwks.keys[0]!.n, e: 'AQAB' });
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwks.keys[0]).not.toHaveProperty(secret);
  });

  it('answers 404 at /.well-known/jwks.json with any other FHIR_AUTH', async () => {
    env = await startTestEnv();
    expect((await fetch(`${env.app.url}/.well-known/jwks.json`)).status).toBe(404);
  });
});
