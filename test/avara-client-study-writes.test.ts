import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAvaraClient, type AvaraClient } from '../src/avara/avara-client.ts';
import { startSandbox, type Sandbox } from '../src/standins/avara-sandbox/start-sandbox.ts';
import { SyncError } from '../src/errors.ts';

const UID = '2.25.4242';
const body = { studyInstanceUid: UID, studyDescription: 'Head CT', severity: 'high' as const, reportMetadata: { mrn: 'M-9' } };

describe('Avara client study writes', () => {
  let sandbox: Sandbox;
  let client: AvaraClient;
  beforeEach(async () => {
    sandbox = await startSandbox({ port: 0, seed: 9 });
    client = createAvaraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, pdfAllowedHosts: ['127.0.0.1'] });
  });
  afterEach(() => sandbox.stop());

  it('finds no study for an unknown UID (null, not an error), then the created one', async () => {
    expect(await client.findStudyByUid(UID)).toBeNull();
    const created = await client.createStudy(body);
    expect((await client.findStudyByUid(UID))?.studyId).toBe(created.studyId);
  });

  it('never retries a create that failed with 503: one call, a retryable error', async () => {
    sandbox.failNext('POST /v1/autoScribe/studies', { status: 503, times: 3 });
    const failure = await client.createStudy(body).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SyncError);
    expect(failure).toMatchObject({ code: 'avara_unavailable', retryable: true });
    expect(sandbox.requestCounts()['POST /v1/autoScribe/studies']).toBe(1);
  });

  it('retries a PATCH after a 503 (same body, same result) and applies it once', async () => {
    const created = await client.createStudy(body);
    sandbox.failNext('PATCH /v1/autoScribe/studies/{studyId}', { status: 503 });
    const patched = await client.updateStudy(created.studyId, { severity: 'stat', reportMetadata: { mrn: null } });
    expect(patched.severity).toBe('stat');
    expect(patched.reportMetadata).toEqual({});
    expect(sandbox.requestCounts()['PATCH /v1/autoScribe/studies/{studyId}']).toBe(2);
  });

  it('cancels and uncancels, and creates and finds a viewer study', async () => {
    const created = await client.createStudy(body);
    await client.cancelStudy(created.studyId);
    expect(sandbox.getStudyState(created.studyId).isCancelled).toBe(true);
    await client.uncancelStudy(created.studyId);
    expect(sandbox.getStudyState(created.studyId).isCancelled).toBe(false);
    expect(await client.getViewerStudyByUid(UID)).toBeNull();
    const viewer = await client.createViewerStudy({ studyInstanceUid: UID, studyDescription: 'Head CT', severity: 'high' });
    expect((await client.getViewerStudyByUid(UID))?.studyId).toBe(viewer.studyId);
  });

  it('reports a refused create body as a permanent bad request', async () => {
    await expect(client.createStudy({ ...body, studyDescription: '' })).rejects.toMatchObject({ code: 'avara_bad_request', retryable: false });
  });
});
