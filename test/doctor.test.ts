import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/standins/avara-sandbox/start-sandbox.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { startMllpReceiver } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { runCli } from './support/run-cli.ts';
import { runDoctorInProcess } from './support/run-doctor-in-process.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';

// An HL7 example OID: a system some EHR Patient carries, unlike one made up for the service.
const EHR_MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5';
const EHR_MRN = 'DOC-PROBE-MRN-4711';

// Three tests run `doctor` as a real child process (exit status, all it prints on stdout and
// stderr); the others ask what it checks, in this process (support/run-doctor-in-process.ts).
describe('avara-fhir-sync doctor', () => {
  let standIns: StandIns;
  let sandbox: Sandbox;
  let fhir: EmbeddedFhirServer;
  let dir: string;
  const env = (overrides: Record<string, string> = {}) => ({
    ...standIns.connectionEnv(),
    MRN_SYSTEM: EHR_MRN_SYSTEM,
    STUDY_TIME_ZONE: 'America/Chicago',
    ...overrides,
  });
  const line = (stdout: string, name: string) => stdout.split('\n').find((l) => l.slice(5).startsWith(`${name}:`)) ?? `(no ${name} line)`;

  beforeAll(async () => {
    standIns = await startStandIns({ dirPrefix: 'afs-doctor-' });
    ({ sandbox, fhir, dir } = standIns);
    const patient = { resourceType: 'Patient', identifier: [{ system: EHR_MRN_SYSTEM, value: EHR_MRN }], name: [{ family: 'Probe', given: ['Doc'] }] };
    const created = await fetch(`${fhir.baseUrl}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(patient) });
    if (created.status !== 201) throw new Error(`seeding the EHR patient answered ${created.status}`);
  });
  afterAll(() => standIns.stop());

  it('passes against the sandbox and the embedded FHIR store, one OK line per check', async () => {
    const result = await runDoctorInProcess(env());
    expect(result.code, result.stdout).toBe(0);
    for (const name of ['configuration', 'mapping settings', 'EHR patients by MRN_SYSTEM', 'webhook signing key', 'Avara API key', 'FHIR transactions', 'FHIR conditional create', 'FHIR conditional update', 'FHIR search by identifier', 'FHIR search by _tag', 'FHIR auth', 'database']) {
      expect(line(result.stdout, name)).toMatch(/^OK {3}/);
    }
    expect(line(result.stdout, 'database schema')).toMatch(/^WARN .*migrate/); // a fresh file: doctor applies nothing
    expect(result.stdout).not.toContain(EHR_MRN);
  });

  it('checks the hl7v2 target: OK when the engine listens (nothing sent), a FAIL line per cause otherwise', async () => {
    const receiver = await startMllpReceiver({ port: 0, ack: 'AA' });
    try {
      const hl7 = (extra: Record<string, string> = {}) => env({ DELIVERY_TARGETS: 'fhir,hl7v2', HL7_HOST: receiver.address.host, HL7_PORT: String(receiver.address.port), ...extra });
      const up = await runDoctorInProcess(hl7());
      expect(line(up.stdout, 'hl7v2 target')).toMatch(new RegExp(`^OK {3}hl7v2 target: TCP connection to 127.0.0.1:${receiver.address.port} opened`));
      expect(receiver.received()).toHaveLength(0);
      const missingCa = await runDoctorInProcess(hl7({ HL7_TLS: 'true', HL7_TLS_CA_FILE: join(dir, 'no-such-ca.pem') }));
      expect(line(missingCa.stdout, 'hl7v2 target')).toMatch(/^FAIL hl7v2 target: cannot read .*no-such-ca\.pem \(ENOENT\) -> check HL7_TLS_CA_FILE/);
      expect(missingCa.code).toBe(1);
      const { port } = receiver.address;
      await receiver.stop();
      const down = await runDoctorInProcess(hl7({ HL7_PORT: String(port) }));
      expect(line(down.stdout, 'hl7v2 target')).toMatch(/^FAIL hl7v2 target: cannot connect \(ECONNREFUSED\) to 127\.0\.0\.1:\d+ -> check HL7_HOST\/HL7_PORT/);
      expect(down.code).toBe(1);
    } finally {
      await receiver.stop();
    }
  });

  it('warns when no Patient in the EHR has an identifier of MRN_SYSTEM', async () => {
    const result = await runDoctorInProcess(env({ MRN_SYSTEM: 'urn:oid:1.2.3.4.5' }));
    expect(result.code, result.stdout).toBe(0);
    expect(line(result.stdout, 'EHR patients by MRN_SYSTEM')).toMatch(/^WARN .*no Patient in the EHR has an identifier of MRN_SYSTEM; with PATIENT_MODE=match no report would find its chart -> set MRN_SYSTEM/);
  });

  it("warns that urn:avara-fhir-sync:mrn was invented, and that PATIENT_MODE=create would duplicate every patient", async () => {
    const result = await runDoctorInProcess(env({ MRN_SYSTEM: 'urn:avara-fhir-sync:mrn', PATIENT_MODE: 'create' }));
    expect(line(result.stdout, 'MRN_SYSTEM')).toMatch(/^WARN MRN_SYSTEM: urn:avara-fhir-sync:mrn is in this service's own namespace, where the old invented default lived/);
    expect(line(result.stdout, 'EHR patients by MRN_SYSTEM')).toMatch(/^WARN .*with PATIENT_MODE=create every patient would be created again/);
  });

  it('warns that STUDY_TIME_ZONE=UTC, the old default, is rarely the scanners\' zone', async () => {
    const result = await runDoctorInProcess(env({ STUDY_TIME_ZONE: 'Etc/UTC' }));
    expect(line(result.stdout, 'STUDY_TIME_ZONE')).toMatch(/^WARN STUDY_TIME_ZONE: Etc\/UTC was the old default/);
    expect(line(result.stdout, 'mapping settings')).toBe('(no mapping settings line)');
  });

  it('fails when the FHIR server refuses this client a Patient search', async () => {
    fhir.faults.failNext(1, 403, { matcher: (method, path) => method === 'GET' && path.endsWith('/Patient') });
    const result = await runDoctorInProcess(env());
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'EHR patients by MRN_SYSTEM')).toMatch(/^FAIL .*a Patient search answered 403 -> grant this client Patient search/);
  });

  it('stops when MRN_SYSTEM and STUDY_TIME_ZONE are missing, naming both in one line', async () => {
    const { MRN_SYSTEM: _mrn, STUDY_TIME_ZONE: _zone, ...rest } = env();
    const result = await runDoctorInProcess(rest);
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toMatch(/^FAIL configuration: MRN_SYSTEM: is required \(.*\); STUDY_TIME_ZONE: is required \(.*\) -> set or fix those variables \(see \.env\.example\)$/);
  });

  it('fails with "key refused" for a key Avara does not know', async () => {
    const result = await runDoctorInProcess(env({ AVARA_API_KEY: `sk_live_${'0'.repeat(32)}` }));
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Avara API key')).toMatch(/^FAIL Avara API key: key refused \(401\) -> set AVARA_API_KEY/);
  });

  it('fails with "lacks AutoScribe access" when Avara answers 403', async () => {
    sandbox.failNext('GET /v1/autoScribe/studies', { status: 403 });
    const result = await runDoctorInProcess(env());
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Avara API key')).toContain('key lacks AutoScribe access');
  });

  it('fails FHIR auth when the FHIR server answers 401 to a search', async () => {
    fhir.faults.failNext(1, 401, { matcher: (method, path) => method === 'GET' && path.endsWith('/DiagnosticReport') });
    const result = await runDoctorInProcess(env());
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'FHIR auth')).toMatch(/^FAIL FHIR auth: a DiagnosticReport search answered 401 -> check FHIR_AUTH/);
  });

  it('fails when the FHIR server does not answer, and when the database path is unusable', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const closed = await startFhirServer({ port: 0 });
    await closed.stop();
    const result = await runDoctorInProcess(env({ FHIR_BASE_URL: closed.baseUrl, SQLITE_PATH: join(blocker, 'state.db') }));
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'FHIR server')).toMatch(/^FAIL .*did not answer \(ECONNREFUSED\)/);
    expect(line(result.stdout, 'database')).toMatch(/^FAIL database: cannot open/);
  });

  it('stops at a configuration error, naming the variable, with exit 1', async () => {
    const { FHIR_BASE_URL: _omitted, ...rest } = env();
    const result = await runDoctorInProcess(rest);
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toBe('FAIL configuration: FHIR_BASE_URL: is required -> fix that variable (see .env.example)');
  });

  it('never prints the API key or webhook secret', async () => {
    const result = await runDoctorInProcess(env({ AVARA_API_KEY: `sk_live_${'0'.repeat(32)}` }));
    expect(result.stdout + result.stderr).not.toContain('0'.repeat(32));
    expect(result.stdout + result.stderr).not.toContain(sandbox.webhookKey.slice(6));
  });
});
