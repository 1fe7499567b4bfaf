import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/avara/sandbox/start-sandbox.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../src/fhir/embedded/start-fhir-server.ts';
import { runCli } from './support/run-cli.ts';

const EHR_MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5';

describe('avara-fhir-sync doctor', () => {
  let dir: string;
  let sandbox: Sandbox;
  let fhir: EmbeddedFhirServer;
  const env = (overrides: Record<string, string> = {}) => ({
    AVARA_BASE_URL: sandbox.baseUrl,
    AVARA_API_KEY: sandbox.apiKey,
    AVARA_WEBHOOK_KEY: sandbox.webhookKey,
    FHIR_BASE_URL: fhir.baseUrl,
    SQLITE_PATH: join(dir, 'state.db'),
    MRN_SYSTEM: EHR_MRN_SYSTEM,
    STUDY_TIME_ZONE: 'America/Chicago',
    ...overrides,
  });
  const line = (stdout: string, name: string) => stdout.split('\n').find((l) => l.slice(5).startsWith(`${name}:`)) ?? `(no ${name} line)`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-doctor-'));
    sandbox = await startSandbox({ port: 0 });
    fhir = await startFhirServer({ port: 0 });
  });
  afterAll(async () => {
    await sandbox.stop();
    await fhir.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes against the sandbox and the embedded FHIR store, one OK line per check', async () => {
    const result = await runCli(['doctor'], env());
    expect(result.code, result.stdout).toBe(0);
    for (const name of ['configuration', 'webhook signing key', 'Avara API key', 'FHIR transactions', 'FHIR conditional create', 'FHIR conditional update', 'FHIR search by identifier', 'FHIR search by _tag', 'FHIR auth', 'database']) {
      expect(line(result.stdout, name)).toMatch(/^OK {3}/);
    }
    expect(line(result.stdout, 'database schema')).toMatch(/^WARN .*migrate/); // a fresh file: doctor applies nothing
  });

  it('stops when MRN_SYSTEM and STUDY_TIME_ZONE are missing, naming both in one line', async () => {
    const { MRN_SYSTEM: _mrn, STUDY_TIME_ZONE: _zone, ...rest } = env();
    const result = await runCli(['doctor'], rest);
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toMatch(/^FAIL configuration: MRN_SYSTEM: is required \(.*\); STUDY_TIME_ZONE: is required \(.*\) -> set or fix those variables \(see \.env\.example\)$/);
  });

  it('fails with "key refused" for a key Avara does not know', async () => {
    const result = await runCli(['doctor'], env({ AVARA_API_KEY: `sk_live_${'0'.repeat(32)}` }));
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Avara API key')).toMatch(/^FAIL Avara API key: key refused \(401\) -> set AVARA_API_KEY/);
  });

  it('fails with "lacks AutoScribe access" when Avara answers 403', async () => {
    sandbox.failNext('GET /v1/autoScribe/studies', { status: 403 });
    const result = await runCli(['doctor'], env());
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Avara API key')).toContain('key lacks AutoScribe access');
  });

  it('fails FHIR auth when the FHIR server answers 401 to a search', async () => {
    fhir.faults.failNext(1, 401, { matcher: (method, path) => method === 'GET' && path.endsWith('/DiagnosticReport') });
    const result = await runCli(['doctor'], env());
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'FHIR auth')).toMatch(/^FAIL FHIR auth: a DiagnosticReport search answered 401 -> check FHIR_AUTH/);
  });

  it('fails when the FHIR server does not answer, and when the database path is unusable', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const closed = await startFhirServer({ port: 0 });
    await closed.stop();
    const result = await runCli(['doctor'], env({ FHIR_BASE_URL: closed.baseUrl, SQLITE_PATH: join(blocker, 'state.db') }));
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'FHIR server')).toMatch(/^FAIL .*did not answer \(ECONNREFUSED\)/);
    expect(line(result.stdout, 'database')).toMatch(/^FAIL database: cannot open/);
  });

  it('stops at a configuration error, naming the variable, with exit 1', async () => {
    const { FHIR_BASE_URL: _omitted, ...rest } = env();
    const result = await runCli(['doctor'], rest);
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toBe('FAIL configuration: FHIR_BASE_URL: is required -> fix that variable (see .env.example)');
  });

  it('never prints the API key or webhook secret', async () => {
    const result = await runCli(['doctor'], env({ AVARA_API_KEY: `sk_live_${'0'.repeat(32)}` }));
    expect(result.stdout + result.stderr).not.toContain('0'.repeat(32));
    expect(result.stdout + result.stderr).not.toContain(sandbox.webhookKey.slice(6));
  });
});
