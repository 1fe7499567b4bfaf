import type { DocumentReference } from '@medplum/fhirtypes';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.ts';
import { createFhirClient, type FhirClient } from '../src/fhir/fhir-client.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';

const SYSTEM = 'https://api.avarasoftware.com/fhir/sid/report-id';

function documentFor(reportId: string): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    identifier: [{ system: SYSTEM, value: reportId }],
    status: 'current',
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from('report').toString('base64') } }],
  };
}

describe('FhirClient.create', () => {
  let server: EmbeddedFhirServer;
  let client: FhirClient;
  beforeAll(async () => {
    server = await startFhirServer();
    client = createFhirClient({ baseUrl: server.baseUrl, auth: { kind: 'none' }, timeoutMs: 2_000, maxRetries: 2 });
  });
  afterAll(() => server.stop());
  beforeEach(() => server.faults.reset());

  const copies = async (reportId: string) => (await client.search<DocumentReference>('DocumentReference', { identifier: `${SYSTEM}|${reportId}` })).length;

  it('returns the id and version the server names in Location', async () => {
    const created = await client.create(documentFor('rep_create_1'));
    expect(created.id).toMatch(/^[A-Za-z0-9\-.]+$/);
    const [stored] = await client.search<DocumentReference>('DocumentReference', { _id: created.id });
    expect(stored?.identifier?.[0]?.value).toBe('rep_create_1');
    expect(created.versionId).toBe(stored?.meta?.versionId);
  });

  it('does not send the create again after a committed write whose connection dropped: the outcome is unknown', async () => {
    server.faults.commitThenDrop(1, { matcher: (method) => method === 'POST' });
    const failure = await client.create(documentFor('rep_create_2')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SyncError);
    expect((failure as SyncError).code).toBe('fhir_unavailable');
    expect(await copies('rep_create_2')).toBe(1);
  });

  it('does not send the create again after a 5xx, even though searches are retried in the call', async () => {
    const posts = () => server.requests().filter((r) => r.method === 'POST').length;
    const before = posts();
    server.faults.failNext(2, 503, { matcher: (method) => method === 'POST' });
    await expect(client.create(documentFor('rep_create_3'))).rejects.toMatchObject({ code: 'fhir_unavailable', retryable: true });
    expect(posts() - before).toBe(1);
  });

  it('names a refused create fhir_rejected_bundle, permanent', async () => {
    await expect(client.create({ resourceType: 'DocumentReference' } as DocumentReference)).rejects.toMatchObject({ code: 'fhir_rejected_bundle', retryable: false });
  });
});
