import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/standins/avara-sandbox/start-sandbox.ts';
import { startSandboxWithReceiver, type WebhookReceiver } from './support/sandbox-webhook-receiver.ts';
import { waitFor } from './support/wait-for.ts';

const UID = '1.2.826.0.1.3680043.8.498.1001';
const createBody = (uid = UID) => ({
  studyInstanceUid: uid,
  studyDescription: 'Chest CT',
  severity: 'normal',
  modality: 'CT',
  reportMetadata: { patientName: 'Test Person', mrn: 'M-1', sex: 'female', dateOfBirth: '1970-01-02', procedure: 'CT Chest' },
  metadata: { fhirServiceRequest: 'ServiceRequest/sr-1' },
});

describe('sandbox study writes (§9.1, §9.7)', () => {
  let sandbox: Sandbox;
  let receiver: WebhookReceiver;
  let stop: () => Promise<void>;
  beforeEach(async () => { ({ sandbox, receiver, stop } = await startSandboxWithReceiver({ port: 0, seed: 5 })); });
  afterEach(() => stop());

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sandbox.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('creates an unassigned study that by-uid then finds', async () => {
    const created = await call('POST', '/v1/autoScribe/studies', createBody());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ studyInstanceUid: UID, studyReportStatus: 'unassigned', isCancelled: false, reportIds: [] });
    const found = await call('GET', `/v1/autoScribe/studies/by-uid/${UID}`);
    expect(found.body.studyId).toBe(created.body.studyId);
  });

  it('answers 400 naming the field for a missing or over-long field, and stores nothing', async () => {
    const { studyDescription: _omit, ...noDescription } = createBody();
    expect(await call('POST', '/v1/autoScribe/studies', noDescription)).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^studyDescription:/) } });
    const longPrior = { ...createBody(), priorReports: [{ reportText: 'x'.repeat(50_001) }] };
    expect(await call('POST', '/v1/autoScribe/studies', longPrior)).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^priorReports\.0\.reportText:/) } });
    expect(await call('POST', '/v1/autoScribe/studies', { ...createBody(), severity: 'urgent' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^severity:/) } });
    expect((await call('GET', `/v1/autoScribe/studies/by-uid/${UID}`)).status).toBe(404);
  });

  it('refuses a second study with the same UID with 409, like a unique constraint', async () => {
    expect((await call('POST', '/v1/autoScribe/studies', createBody())).status).toBe(201);
    expect((await call('POST', '/v1/autoScribe/studies', createBody())).status).toBe(409);
  });

  it('PATCH leaves omitted fields, clears nulls and replaces arrays', async () => {
    const { body: study } = await call('POST', '/v1/autoScribe/studies', { ...createBody(), priorReports: [{ reportText: 'a' }, { reportText: 'b' }] });
    const patched = await call('PATCH', `/v1/autoScribe/studies/${study.studyId}`, {
      severity: 'stat', reportMetadata: { sex: null, patientName: 'Test Persson' }, priorReports: [{ reportText: 'c' }], modality: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ severity: 'stat', studyDescription: 'Chest CT', modality: null, priorReports: [{ reportText: 'c' }] });
    expect(patched.body.reportMetadata).toEqual({ patientName: 'Test Persson', mrn: 'M-1', dateOfBirth: '1970-01-02', procedure: 'CT Chest' });
    expect((await call('PATCH', `/v1/autoScribe/studies/${study.studyId}`, { studyInstanceUid: '9.9' })).status).toBe(400);
  });

  it('creates one viewer study per UID and finds it by UID', async () => {
    const body = { studyInstanceUid: UID, studyDescription: 'Chest CT', severity: 'high', metadata: { a: 'b' } };
    expect((await call('POST', '/v1/viewer/studies', body)).status).toBe(201);
    expect((await call('POST', '/v1/viewer/studies', body)).status).toBe(409);
    expect((await call('GET', `/v1/viewer/studies/by-uid/${UID}`)).body).toMatchObject({ studyInstanceUid: UID, studyViewerStatus: 'incomplete' });
    expect(sandbox.requestCounts()['POST /v1/viewer/studies']).toBe(2);
  });

  it('auto-sign completes a created study after the delay and sends report.delivered', async () => {
    const control = await fetch(`${sandbox.controlUrl}/auto-sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ delayMs: 20 }) });
    expect(control.status).toBe(200);
    const { body: study } = await call('POST', '/v1/autoScribe/studies', createBody());
    await waitFor('the report.delivered webhook', () => receiver.received.length > 0, 5000);
    const event = JSON.parse(receiver.received[0]!.rawBody) as { type: string; data: { studyId: string; reportId: string } };
    expect(event).toMatchObject({ type: 'report.delivered', data: { studyId: study.studyId } });
    const live = sandbox.getStudyState(study.studyId);
    expect(live.studyReportStatus).toBe('completed');
    expect(live.metadata).toEqual({ fhirServiceRequest: 'ServiceRequest/sr-1' });
    expect(sandbox.getReportState(event.data.reportId).report.signedAt).not.toBeNull();
  });
});
