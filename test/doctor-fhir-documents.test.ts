import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { runCli } from './support/run-cli.ts';
import { runDoctorInProcess } from './support/run-doctor-in-process.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';

const EHR_MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5';

/** An EHR whose CapabilityStatement leaves things out, and whose DocumentReference search answers `searchStatus`. */
async function startTerseEhr(searchStatus: number): Promise<{ baseUrl: string; paths: string[]; stop: () => Promise<void> }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/fhir+json');
    if (req.url === '/metadata') {
      res.end(JSON.stringify({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'], date: '2026-01-01',
        rest: [{ mode: 'server', resource: [{ type: 'DocumentReference', interaction: [{ code: 'create' }] }, { type: 'Encounter', interaction: [{ code: 'read' }] }] }] }));
      return;
    }
    const bundle = { resourceType: 'Bundle', type: 'searchset', total: 0 };
    if (req.url?.startsWith('/DocumentReference') && searchStatus !== 200) {
      res.statusCode = searchStatus;
      res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported' }] }));
      return;
    }
    res.end(JSON.stringify(bundle));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// The first test runs `doctor` as a real child process; the others ask what it checks, in this
// process (support/run-doctor-in-process.ts).
describe('doctor for the fhir-documents target', () => {
  let standIns: StandIns;
  let ehr: EmbeddedFhirServer;
  const line = (stdout: string, name: string) => stdout.split('\n').find((l) => l.slice(5).startsWith(`${name}:`)) ?? `(no ${name} line)`;
  const env = (overrides: Record<string, string> = {}) => ({
    ...standIns.connectionEnv(),
    FHIR_BASE_URL: ehr.baseUrl,
    DELIVERY_TARGETS: 'fhir-documents',
    MRN_SYSTEM: EHR_MRN_SYSTEM,
    STUDY_TIME_ZONE: 'America/Chicago',
    ...overrides,
  });

  beforeAll(async () => {
    standIns = await startStandIns({ dirPrefix: 'afs-doctor-documents-' });
    ehr = await startFhirServer({ port: 0, ehr: 'documents' });
    await ehr.seed({ resourceType: 'Patient', identifier: [{ system: EHR_MRN_SYSTEM, value: 'DOC-PROBE-MRN-4712' }] });
  });
  afterAll(async () => {
    await ehr?.stop();
    await standIns?.stop();
  });

  it('passes against a documents-only EHR: search by identifier probed, capabilities read, no transaction or conditional checks', async () => {
    const result = await runCli(['doctor'], env({ FHIR_DOCUMENT_ENCOUNTER: 'search' }));
    expect(result.code, result.stdout).toBe(0);
    for (const name of ['FHIR DocumentReference search by identifier', 'FHIR DocumentReference create', 'FHIR DocumentReference search', 'FHIR Encounter search', 'EHR patients by MRN_SYSTEM']) {
      expect(line(result.stdout, name), result.stdout).toMatch(/^OK {3}/);
    }
    for (const name of ['FHIR transactions', 'FHIR conditional create', 'FHIR conditional update']) expect(result.stdout).not.toContain(`${name}:`);
  });

  it('keeps the transaction checks when fhir is a target too (and they fail against a documents-only EHR)', async () => {
    const result = await runDoctorInProcess(env({ DELIVERY_TARGETS: 'fhir,fhir-documents' }));
    expect(line(result.stdout, 'FHIR transactions')).toMatch(/^FAIL /);
    expect(line(result.stdout, 'FHIR DocumentReference search by identifier')).toMatch(/^OK {3}/);
    expect(result.code).toBe(1);
  });

  it('warns where the CapabilityStatement is silent but the probe worked, and names a missing Encounter search', async () => {
    const terse = await startTerseEhr(200);
    try {
      const result = await runDoctorInProcess(env({ FHIR_BASE_URL: terse.baseUrl, FHIR_DOCUMENT_ENCOUNTER: 'search' }));
      expect(terse.paths).toContain('/DocumentReference?identifier=https%3A%2F%2Fapi.avarasoftware.com%2Ffhir%2Fsid%2Freport-id%7Cdoctor-probe&_count=1');
      expect(line(result.stdout, 'FHIR DocumentReference search by identifier')).toMatch(/^OK {3}/);
      expect(line(result.stdout, 'FHIR DocumentReference search')).toMatch(/^WARN .*no search-type/);
      expect(line(result.stdout, 'FHIR DocumentReference create')).toMatch(/^OK {3}/);
      expect(line(result.stdout, 'FHIR Encounter search')).toMatch(/^FAIL .*Encounter lists no search-type/);
    } finally {
      await terse.stop();
    }
  });

  it('fails when the DocumentReference search does not answer a Bundle, and only warns with FHIR_DOCUMENT_IDENTIFIER_SEARCH=false', async () => {
    const terse = await startTerseEhr(400);
    try {
      const on = await runDoctorInProcess(env({ FHIR_BASE_URL: terse.baseUrl }));
      expect(line(on.stdout, 'FHIR DocumentReference search by identifier')).toMatch(/^FAIL .*answered 400 .*FHIR_DOCUMENT_IDENTIFIER_SEARCH=false/);
      expect(on.code).toBe(1);
      const off = await runDoctorInProcess(env({ FHIR_BASE_URL: terse.baseUrl, FHIR_DOCUMENT_IDENTIFIER_SEARCH: 'false' }));
      expect(line(off.stdout, 'FHIR DocumentReference search by identifier')).toMatch(/^WARN /);
    } finally {
      await terse.stop();
    }
  });
});
