import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.ts';
import { loadBackfillConfig, loadConfig, loadStoreConfig } from '../src/config/load-config.ts';

const run = promisify(execFile);
const VALID = {
  AVARA_API_KEY: 'sk_live_0123456789abcdef0123456789abcdef',
  AVARA_WEBHOOK_KEY: 'whsec_aOIOjHX2f9EZlBx83v4B6sCOuq9thgxS',
  FHIR_BASE_URL: 'http://127.0.0.1:8103/fhir/R4',
  MRN_SYSTEM: 'urn:oid:2.16.840.1.113883.19.5',
  STUDY_TIME_ZONE: 'America/Chicago',
};

function without(...names: (keyof typeof VALID)[]): Record<string, string> {
  return Object.fromEntries(Object.entries(VALID).filter(([name]) => !names.includes(name as keyof typeof VALID)));
}

async function serveFailure(env: Record<string, string>): Promise<{ code: number; stderr: string } | undefined> {
  return run(process.execPath, ['src/cli-entry.mjs', 'serve'], { env: { PATH: process.env.PATH ?? '', ...env } }).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
}

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('applies the defaults of design.md', () => {
    const config = loadConfig(VALID);
    expect(config.avara.baseUrl).toBe('https://api.avarasoftware.com');
    expect(config.avara.pdfAllowedHosts).toEqual(['api.avarasoftware.com']);
    expect(config.delivery).toMatchObject({ concurrency: 4, maxAttempts: 12, retryBaseMs: 10_000, retryMaxMs: 3_600_000, leaseMs: 60_000, patientMode: 'match', thread: true, nice: 10 });
    expect(config.poll.intervalMs).toBe(300_000);
    expect(config.delivery.mapping.accessionSystem).toBe('https://api.avarasoftware.com/fhir/sid/accession');
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(Object.isFrozen(config.delivery)).toBe(true);
  });

  it('turns the delivery thread off and its priority offset down, and refuses an offset beyond 19', () => {
    expect(loadConfig({ ...VALID, WORKER_THREAD: 'false', WORKER_NICE: '0' }).delivery).toMatchObject({ thread: false, nice: 0 });
    expect(configError({ ...VALID, WORKER_NICE: '20' })).toMatch(/^WORKER_NICE: /);
  });

  it('names a missing required variable', () => {
    expect(configError({ ...VALID, FHIR_BASE_URL: '' })).toBe('FHIR_BASE_URL: is required');
  });

  it('has no default MRN_SYSTEM or STUDY_TIME_ZONE: each missing one is named, with what to ask for', () => {
    expect(configError(without('MRN_SYSTEM'))).toBe("MRN_SYSTEM: is required (the identifier system of the EHR's MRNs: ask the EHR team)");
    expect(configError(without('STUDY_TIME_ZONE'))).toMatch(/^STUDY_TIME_ZONE: is required \(the IANA zone of Avara's studyDate\/studyTime/);
    expect(loadConfig(VALID).delivery.mapping).toMatchObject({ mrnSystem: VALID.MRN_SYSTEM, studyTimeZone: VALID.STUDY_TIME_ZONE });
  });

  it('names every variable at fault in one line, not one per start', () => {
    const message = configError({ ...without('AVARA_API_KEY', 'MRN_SYSTEM', 'STUDY_TIME_ZONE'), WORKER_CONCURRENCY: 'many' });
    expect(message.split('; ').map((part) => part.split(':')[0])).toEqual(['AVARA_API_KEY', 'MRN_SYSTEM', 'WORKER_CONCURRENCY', 'STUDY_TIME_ZONE']);
  });

  it('gives the read-only commands their database from SQLITE_PATH alone, whatever else the environment holds', () => {
    expect(loadStoreConfig({ SQLITE_PATH: '/var/lib/afs/state.db', AVARA_API_KEY: 'not-a-key', LOG_LEVEL: 'loud' })).toEqual({ sqlitePath: '/var/lib/afs/state.db' });
    expect(loadStoreConfig({ SQLITE_PATH: '' })).toEqual({ sqlitePath: './data/avara-fhir-sync.db' });
  });

  it('lets backfill run on the Avara key alone: it enqueues, serve maps and delivers', () => {
    const config = loadBackfillConfig({ AVARA_API_KEY: VALID.AVARA_API_KEY, SQLITE_PATH: '/tmp/x.db' });
    expect(config).toEqual({
      avara: { baseUrl: 'https://api.avarasoftware.com', apiKey: VALID.AVARA_API_KEY, pdfAllowedHosts: ['api.avarasoftware.com'] },
      store: { sqlitePath: '/tmp/x.db' },
      poll: { intervalMs: 300_000, maxRequestsPerSecond: 5, targets: ['fhir'] },
    });
    expect(() => loadBackfillConfig({})).toThrow('AVARA_API_KEY: is required');
  });

  it('delivers to fhir alone by default; hl7v2 needs its engine, and a client certificate needs its key', () => {
    expect(loadConfig(VALID).delivery).toMatchObject({ targets: ['fhir'], hl7: undefined });
    expect(configError({ ...VALID, DELIVERY_TARGETS: 'fhir,hl7v2' })).toBe('HL7_HOST: is required when DELIVERY_TARGETS includes hl7v2; HL7_PORT: is required when DELIVERY_TARGETS includes hl7v2');
    const both = loadConfig({ ...VALID, DELIVERY_TARGETS: 'fhir, hl7v2', HL7_HOST: 'engine.hospital.example', HL7_PORT: '2575' });
    expect(both.delivery.targets).toEqual(['fhir', 'hl7v2']);
    expect(both.poll.targets).toEqual(['fhir', 'hl7v2']);
    expect(both.delivery.hl7).toMatchObject({ host: 'engine.hospital.example', port: 2575, ackTimeoutMs: 30_000, messageType: 'ORU^R01', sendingApplication: 'AVARA', processingId: 'P', patientClass: 'O', embedPdf: true, tls: undefined });
    expect(configError({ ...VALID, DELIVERY_TARGETS: 'hl7v2', HL7_HOST: 'e', HL7_PORT: '2575', HL7_TLS: 'true', HL7_TLS_CERT_FILE: '/c.pem' })).toBe('HL7_TLS_KEY_FILE: is required with HL7_TLS_CERT_FILE');
    expect(configError({ ...VALID, DELIVERY_TARGETS: 'fhir,fhir' })).toMatch(/^DELIVERY_TARGETS: names a target twice/);
    expect(configError({ ...VALID, DELIVERY_TARGETS: 'smtp' })).toMatch(/^DELIVERY_TARGETS: each target must be fhir, fhir-documents or hl7v2/);
  });

  it('takes fhir-documents as a target, with a PDF, no encounter and identifier search by default', () => {
    const documents = loadConfig({ ...VALID, DELIVERY_TARGETS: 'fhir-documents' });
    expect(documents.delivery.targets).toEqual(['fhir-documents']);
    expect(documents.delivery.documents).toEqual({ content: 'pdf', encounter: 'none', identifierSearch: true });
    const text = loadConfig({ ...VALID, DELIVERY_TARGETS: 'fhir,fhir-documents', FHIR_DOCUMENT_CONTENT: 'text', FHIR_DOCUMENT_ENCOUNTER: 'search', FHIR_DOCUMENT_IDENTIFIER_SEARCH: 'false' });
    expect(text.delivery.documents).toEqual({ content: 'text', encounter: 'search', identifierSearch: false });
    expect(configError({ ...VALID, FHIR_DOCUMENT_CONTENT: 'html' })).toMatch(/^FHIR_DOCUMENT_CONTENT: /);
    expect(configError({ ...VALID, FHIR_DOCUMENT_ENCOUNTER: 'create' })).toMatch(/^FHIR_DOCUMENT_ENCOUNTER: /);
  });

  it('names an invalid variable without echoing its value', () => {
    const message = configError({ ...VALID, AVARA_API_KEY: 'secret-value-123' });
    expect(message).toMatch(/^AVARA_API_KEY: /);
    expect(message).not.toContain('secret-value-123');
  });

  it('accepts several webhook keys during rotation and refuses a malformed one', () => {
    expect(loadConfig({ ...VALID, AVARA_WEBHOOK_KEY: `${VALID.AVARA_WEBHOOK_KEY}, whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw` }).avara.webhookKeys).toHaveLength(2);
    expect(configError({ ...VALID, AVARA_WEBHOOK_KEY: 'not-a-key' })).toMatch(/^AVARA_WEBHOOK_KEY: /);
  });

  it('refuses an unknown time zone and a backoff ceiling below its base', () => {
    expect(configError({ ...VALID, STUDY_TIME_ZONE: 'Mars/Olympus' })).toMatch(/^STUDY_TIME_ZONE: /);
    expect(configError({ ...VALID, RETRY_BASE_SECONDS: '60', RETRY_MAX_SECONDS: '10' })).toMatch(/^RETRY_MAX_SECONDS: /);
  });

  it('requires the credentials the chosen FHIR_AUTH needs', () => {
    expect(configError({ ...VALID, FHIR_AUTH: 'client_credentials', FHIR_CLIENT_ID: 'x' })).toBe('FHIR_CLIENT_SECRET: is required when FHIR_AUTH=client_credentials; FHIR_TOKEN_URL: is required when FHIR_AUTH=client_credentials');
    expect(loadConfig({ ...VALID, FHIR_AUTH: 'bearer', FHIR_BEARER_TOKEN: 't' }).fhir.auth).toEqual({ kind: 'bearer', token: 't' });
  });

  it('stops `serve` with one line naming the variable', async () => {
    const failure = await serveFailure({ ...VALID, WORKER_CONCURRENCY: 'many' });
    expect(failure?.code).toBe(1);
    expect(failure?.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^avara-fhir-sync: WORKER_CONCURRENCY: /)]);
  });

  it('stops `serve` without MRN_SYSTEM and STUDY_TIME_ZONE, naming both on one line', async () => {
    const failure = await serveFailure(without('MRN_SYSTEM', 'STUDY_TIME_ZONE'));
    expect(failure?.code).toBe(1);
    expect(failure?.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^avara-fhir-sync: MRN_SYSTEM: is required \(.*\); STUDY_TIME_ZONE: is required \(/)]);
  });
});
