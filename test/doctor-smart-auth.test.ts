import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.ts';
import { runDoctorInProcess } from './support/run-doctor-in-process.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';
import { writeSigningKey, type TestSigningKey } from './support/smart-signing-keys.ts';

const CLIENT_ID = 'doctor-smart-client';

// The first test runs `doctor` as a real child process (nothing token-like on stdout or stderr);
// the others ask what it checks, in this process (support/run-doctor-in-process.ts).
describe('avara-fhir-sync doctor with FHIR_AUTH=private_key_jwt', () => {
  let standIns: StandIns;
  let key: TestSigningKey;
  let keyDir: string;
  const line = (stdout: string, name: string) => stdout.split('\n').find((l) => l.slice(5).startsWith(`${name}:`)) ?? `(no ${name} line)`;
  const env = (overrides: Record<string, string> = {}) => ({
    ...standIns.connectionEnv(),
    MRN_SYSTEM: 'urn:oid:2.16.840.1.113883.19.5',
    STUDY_TIME_ZONE: 'America/Chicago',
    FHIR_AUTH: 'private_key_jwt',
    FHIR_CLIENT_ID: CLIENT_ID,
    FHIR_PRIVATE_KEY_FILE: key.file,
    ...overrides,
  });

  beforeAll(async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'afs-doctor-key-'));
    key = await writeSigningKey(keyDir, 'ES384');
    standIns = await startStandIns({ dirPrefix: 'afs-doctor-smart-', fhir: { auth: { smart: { jwks: key.jwks, clientId: CLIENT_ID } } } });
  });
  afterAll(async () => {
    await standIns.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('gets a token through the discovered endpoint and then checks the FHIR server with it', async () => {
    const result = await runCli(['doctor'], env());
    for (const name of ['FHIR signing key', 'FHIR smart-configuration', 'FHIR token', 'FHIR transactions', 'FHIR auth']) {
      expect(line(result.stdout, name)).toMatch(/^OK {3}/);
    }
    expect(line(result.stdout, 'FHIR signing key')).toContain(`ES384, kid ${key.kid}`);
    expect(result.stdout + result.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  it('says which claim the token endpoint refused', async () => {
    const result = await runDoctorInProcess(env({ FHIR_CLIENT_ID: 'not-registered' }));
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'FHIR token')).toMatch(/^FAIL FHIR token: FHIR token endpoint refused the client assertion \(400 invalid_client: iss claim invalid .*\) -> check FHIR_CLIENT_ID/);
  });

  it('says the key is not the registered one when the signature does not verify', async () => {
    const other = await writeSigningKey(standIns.dir, 'ES384', 'other');
    const result = await runDoctorInProcess(env({ FHIR_PRIVATE_KEY_FILE: other.file, FHIR_KEY_ID: key.kid }));
    expect(line(result.stdout, 'FHIR token')).toContain('invalid_client: signature does not verify with the registered key');
  });

  it('fails on a key SMART does not allow before asking for a token', async () => {
    const file = join(standIns.dir, 'p256.pem');
    writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const result = await runDoctorInProcess(env({ FHIR_PRIVATE_KEY_FILE: file }));
    expect(line(result.stdout, 'FHIR signing key')).toMatch(/^FAIL FHIR signing key: FHIR_PRIVATE_KEY_FILE: a EC prime256v1 key/);
    expect(line(result.stdout, 'FHIR token')).toBe('(no FHIR token line)');
  });

  it('names the capability a server without SMART lacks: no smart-configuration, so no token URL', async () => {
    const plain = await startStandIns({ dirPrefix: 'afs-doctor-plain-' });
    try {
      const result = await runDoctorInProcess({ ...env(), FHIR_BASE_URL: plain.fhir.baseUrl });
      expect(line(result.stdout, 'FHIR smart-configuration')).toMatch(/^FAIL FHIR smart-configuration: not published \(answered 404\), so the token URL is unknown -> set FHIR_TOKEN_URL/);
    } finally {
      await plain.stop();
    }
  });
});
