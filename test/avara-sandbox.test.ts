import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ReportListSchema, ReportPdfItemSchema, ReportTextItemSchema, StudyPageSchema, StudySchema, UserSchema,
} from '../src/avara/schemas.ts';
import { sandboxStartupLine } from '../src/standins/avara-sandbox/sandbox-startup-line.ts';
import { startSandbox, type Sandbox } from '../src/standins/avara-sandbox/start-sandbox.ts';
import { startSandboxWithReceiver, type WebhookReceiver } from './support/sandbox-webhook-receiver.ts';

const FIXED_NOW = new Date('2026-08-21T13:30:00Z');

async function getJson(sandbox: Sandbox, path: string, key: string | null = sandbox.apiKey) {
  const response = await fetch(`${sandbox.baseUrl}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

describe('sandbox data', () => {
  let sandbox: Sandbox;
  let studies: any[];
  beforeAll(async () => {
    sandbox = await startSandbox({ studies: 200, seed: 1234, now: () => FIXED_NOW });
    studies = [];
    for (let cursor = ''; ;) {
      const { body } = await getJson(sandbox, `/v1/autoScribe/studies?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      StudyPageSchema.parse(body);
      studies.push(...body.studies);
      if (!body.hasMore) break;
      cursor = body.cursor;
    }
  });
  afterAll(() => sandbox.stop());

  it('serves 200 studies whose every response matches the §5 schemas', async () => {
    expect(studies).toHaveLength(200);
    for (const study of studies) {
      StudySchema.parse((await getJson(sandbox, `/v1/autoScribe/studies/${study.studyId}`)).body);
      const list = ReportListSchema.parse((await getJson(sandbox, `/v1/autoScribe/reports?studyId=${study.studyId}`)).body);
      const reportId = list.reports[0]!.reportId;
      ReportTextItemSchema.parse((await getJson(sandbox, `/v1/autoScribe/reports/text?reportId=${reportId}`)).body);
      ReportPdfItemSchema.parse((await getJson(sandbox, `/v1/autoScribe/reports/pdf?reportId=${reportId}`)).body);
    }
    const user = (await getJson(sandbox, `/v1/autoScribe/users/${studies[0].assignedTo.userId}`)).body;
    expect(UserSchema.parse(user).npiNumber).toMatch(/^\d{10}$/);
    expect(user).toMatchObject({ suffix1: 'MD', clinicRole: 'Radiologist', canCreateReports: true });
  });

  it('looks like a real tenant: name forms, accents, MRNs, UIDs, accession numbers, patient ids', () => {
    const names = studies.map((s) => s.reportMetadata.patientName as string);
    expect(names.some((n) => /^[^,]+, [^,]+$/.test(n))).toBe(true);
    expect(names.some((n) => /[^\x00-\x7f]/.test(n))).toBe(true);
    expect(studies.every((s) => /^H-\d{8}$/.test(s.reportMetadata.mrn))).toBe(true);
    expect(studies.every((s) => /^(2\.25\.\d+|1\.2\.826\.[\d.]+)$/.test(s.studyInstanceUid))).toBe(true);
    const withAccession = studies.filter((s) => s.metadata?.accessionNumber).length;
    expect(withAccession).toBeGreaterThan(140);
    expect(withAccession).toBeLessThan(200);
    expect(studies.some((s) => s.externalPatientId) && studies.some((s) => !s.externalPatientId)).toBe(true);
    expect(studies.every((s) => /Z$/.test(s.createdAt) && s.studyReportStatus === 'completed')).toBe(true);
    expect(new Set(studies.map((s) => s.reportMetadata.procedure)).size).toBeGreaterThan(4);
  });

  it('writes 2-6 KB report texts with the usual section headings', async () => {
    for (const study of studies) {
      const { body } = await getJson(sandbox, `/v1/autoScribe/reports/text?reportId=${study.reportIds[0].reportId}`);
      const bytes = Buffer.byteLength(body.plainText);
      expect(bytes).toBeGreaterThanOrEqual(2048);
      expect(bytes).toBeLessThanOrEqual(6144);
      for (const heading of ['EXAM:', 'INDICATION:', 'TECHNIQUE:', 'FINDINGS:', 'IMPRESSION:']) expect(body.plainText).toContain(heading);
    }
  });

  it('generates the same data from the same seed', async () => {
    const twin = await startSandbox({ studies: 5, seed: 1234, now: () => FIXED_NOW });
    try {
      const { body } = await getJson(twin, '/v1/autoScribe/studies?limit=5');
      expect(body.studies).toEqual(studies.slice(0, 5));
    } finally {
      await twin.stop();
    }
  });

  it('renders each report as a valid PDF 1.4 with exact xref offsets, identically every time', () => {
    const reportId = studies[0].reportIds[0].reportId;
    const bytes = sandbox.pdfBytes(reportId);
    expect(sandbox.pdfBytes(reportId)).toEqual(bytes);
    expectValidPdf(bytes);
    expect(bytes.length).toBeLessThan(20 * 1024);
  });
});

describe('sandbox with realistic PDF sizes', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ studies: 20, seed: 99, now: () => FIXED_NOW, realisticPdfSizes: true });
  });
  afterAll(() => sandbox.stop());

  it('serves valid PDFs of 100-300 KB, the same bytes every time and over the presigned link', async () => {
    const reports = sandbox.allReportStates();
    const sizes = reports.map((r) => sandbox.pdfBytes(r.report.reportId).length);
    for (const size of sizes) {
      expect(size).toBeGreaterThanOrEqual(100 * 1024);
      expect(size).toBeLessThanOrEqual(300 * 1024);
    }
    expect(new Set(sizes).size).toBeGreaterThan(10);
    const reportId = reports[0]!.report.reportId;
    const bytes = sandbox.pdfBytes(reportId);
    expect(sandbox.pdfBytes(reportId)).toEqual(bytes);
    expectValidPdf(bytes);
    expect(Buffer.from(bytes).toString('latin1')).toMatch(/\/XObject << \/Im1 \d+ 0 R >>/);
    const { body } = await getJson(sandbox, `/v1/autoScribe/reports/pdf?reportId=${reportId}`);
    const served = await fetch(body.presignedUrl as string);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
  });
});

/** PDF 1.4 structure: header, trailer, exact xref offsets, and every stream exactly /Length long. */
function expectValidPdf(bytes: Uint8Array): void {
  const text = Buffer.from(bytes).toString('latin1');
  expect(text.startsWith('%PDF-1.4\n')).toBe(true);
  expect(text.endsWith('%%EOF\n')).toBe(true);
  expect(text).toContain('/BaseFont /Helvetica');
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
  expect(text.slice(startxref, startxref + 4)).toBe('xref');
  const entries = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n \n/gm)].map((m) => Number(m[1]));
  expect(entries.length).toBeGreaterThanOrEqual(6);
  entries.forEach((offset, index) => expect(text.slice(offset).startsWith(`${index + 1} 0 obj\n`)).toBe(true));
  const streams = [...text.matchAll(/\/Length (\d+) >>\nstream\n/g)];
  expect(streams.length).toBeGreaterThan(0);
  for (const match of streams) {
    const streamStart = match.index + match[0].length;
    expect(text.slice(streamStart + Number(match[1]), streamStart + Number(match[1]) + 10)).toBe('\nendstream');
  }
}

describe('sandbox API behaviour', () => {
  let sandbox: Sandbox;
  let clock = FIXED_NOW.getTime();
  beforeAll(async () => {
    sandbox = await startSandbox({ studies: 30, seed: 99, now: () => new Date(clock) });
  });
  afterAll(() => sandbox.stop());

  it('answers 401 with a JSON message for a missing or unknown API key', async () => {
    for (const key of [null, 'sk_live_00000000000000000000000000000000']) {
      const { status, body } = await getJson(sandbox, '/v1/autoScribe/studies', key);
      expect(status).toBe(401);
      expect(typeof body.message).toBe('string');
    }
  });

  it('validates limit (1-100) and enum filters with 400 {message}', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'studyReportStatus=done', 'isCancelled=yes', 'studyType=x', 'cursor=bm9wZQ']) {
      const { status, body } = await getJson(sandbox, `/v1/autoScribe/studies?${query}`);
      expect([query, status]).toEqual([query, 400]);
      expect(body.message).toBeTypeOf('string');
    }
  });

  it('filters the way the SDK encodes them: comma-joined statuses, booleans, empty value for none', async () => {
    const [studyId] = [...(await getJson(sandbox, '/v1/autoScribe/studies?limit=1')).body.studies.map((s: any) => s.studyId)];
    Object.assign(sandbox.getStudyState(studyId), { isCancelled: true });
    const both = await getJson(sandbox, '/v1/autoScribe/studies?studyReportStatus=completed%2Caddendum_active&limit=100');
    expect(both.body.studies).toHaveLength(30);
    const live = await getJson(sandbox, '/v1/autoScribe/studies?isCancelled=false&limit=100');
    expect(live.body.studies).toHaveLength(29);
    const unassigned = await getJson(sandbox, '/v1/autoScribe/studies?assignedTo=');
    expect(unassigned.body).toEqual({ studies: [], cursor: '', hasMore: false });
    const none = await getJson(sandbox, '/v1/autoScribe/studies?studyReportStatus=unassigned');
    expect(none.body.studies).toEqual([]);
    Object.assign(sandbox.getStudyState(studyId), { isCancelled: false });
  });

  it('requires exactly one selector for reports and answers text in both shapes', async () => {
    expect((await getJson(sandbox, '/v1/autoScribe/reports')).status).toBe(400);
    expect((await getJson(sandbox, '/v1/autoScribe/reports/text')).status).toBe(400);
    const study = (await getJson(sandbox, '/v1/autoScribe/studies?limit=1')).body.studies[0];
    expect((await getJson(sandbox, `/v1/autoScribe/reports/text?studyId=${study.studyId}&reportId=${study.reportIds[0].reportId}`)).status).toBe(400);
    const list = await getJson(sandbox, `/v1/autoScribe/reports/text?studyInstanceUid=${study.studyInstanceUid}`);
    expect(list.body).toMatchObject({ studyId: study.studyId, studyInstanceUid: study.studyInstanceUid });
    expect(ReportTextItemSchema.parse(list.body.reports[0]).reportId).toBe(study.reportIds[0].reportId);
    const pdfs = await getJson(sandbox, `/v1/autoScribe/reports/pdf?studyId=${study.studyId}`);
    expect(ReportPdfItemSchema.parse(pdfs.body.reports[0]).presignedUrl).toContain('/_files/');
    expect((await getJson(sandbox, `/v1/autoScribe/studies/by-uid/${study.studyInstanceUid}`)).body.studyId).toBe(study.studyId);
    expect((await getJson(sandbox, '/v1/autoScribe/studies/stu_00000000000000000000000000000000')).status).toBe(404);
  });

  it('serves presigned PDF links without the API key, refuses tampered, expired or doubly-authorised ones', async () => {
    const [ref] = await sandbox.signReports(1);
    const { body } = await getJson(sandbox, `/v1/autoScribe/reports/pdf?reportId=${ref!.reportId}`);
    const ok = await fetch(body.presignedUrl);
    expect(ok.status).toBe(200);
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(sandbox.pdfBytes(ref!.reportId));
    const withKey = await fetch(body.presignedUrl, { headers: { authorization: `Bearer ${sandbox.apiKey}` } });
    expect(withKey.status).toBe(400);
    // One character of the signature changed (to 'x', or 'y' where it was 'x': 1 in 64 links).
    const tampered = await fetch(body.presignedUrl.replace(/sig=(.)/, (_: string, first: string) => `sig=${first === 'x' ? 'y' : 'x'}`));
    expect(tampered.status).toBe(403);
    clock += 3600 * 1000;
    const expired = await fetch(body.presignedUrl);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('serves changes made through getStudyState and getReportState', async () => {
    const [ref] = await sandbox.signReports(1);
    sandbox.getStudyState(ref!.studyId).metadata = { accessionNumber: 'ACC-EDITED' };
    delete sandbox.getReportState(ref!.reportId).plainText;
    expect((await getJson(sandbox, `/v1/autoScribe/studies/${ref!.studyId}`)).body.metadata).toEqual({ accessionNumber: 'ACC-EDITED' });
    const text = (await getJson(sandbox, `/v1/autoScribe/reports/text?reportId=${ref!.reportId}`)).body;
    expect('plainText' in text).toBe(false);
  });

  it('signs addenda on completed studies, and opens and cancels them through the API', async () => {
    const [original] = await sandbox.signReports(1);
    const [addendum] = await sandbox.signReports(1, { addendum: true });
    expect(addendum).toMatchObject({ studyId: original!.studyId, isAddendum: true });
    const reports = ReportListSchema.parse((await getJson(sandbox, `/v1/autoScribe/reports?studyId=${original!.studyId}`)).body).reports;
    expect(reports.map((r) => [r.isAddendum, r.status])).toEqual([[false, 'completed'], [true, 'completed']]);
    expect(reports[1]!.signedAt! >= reports[0]!.signedAt!).toBe(true);
    const post = (path: string) => fetch(`${sandbox.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${sandbox.apiKey}` } });
    expect((await post(`/v1/autoScribe/reports/${original!.reportId}/addendum`)).status).toBe(200);
    expect(sandbox.getStudyState(original!.studyId).studyReportStatus).toBe('addendum_active');
    expect((await post(`/v1/autoScribe/reports/${original!.reportId}/cancel-addendum`)).status).toBe(200);
    expect(sandbox.getStudyState(original!.studyId)).toMatchObject({ studyReportStatus: 'completed' });
    expect(sandbox.getStudyState(original!.studyId).reportIds).toHaveLength(2);
  });
});

describe('sandbox control API and fault switches', () => {
  let sandbox: Sandbox;
  let receiver: WebhookReceiver;
  let stop: () => Promise<void>;
  beforeAll(async () => { ({ sandbox, receiver, stop } = await startSandboxWithReceiver({ seed: 5 })); });
  afterAll(() => stop());

  it('prints the startup line design.md specifies', () => {
    const line = JSON.parse(sandboxStartupLine(sandbox));
    expect(Object.keys(line)).toEqual(['baseUrl', 'apiKey', 'webhookKey', 'controlUrl']);
    expect(line.apiKey).toMatch(/^sk_live_[0-9a-f]{32}$/);
    expect(line.webhookKey).toMatch(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);
    expect(line.controlUrl).toBe(`${sandbox.baseUrl}/_sandbox`);
  });

  it('signs reports, sets faults and counts requests over HTTP', async () => {
    const post = (path: string, body: unknown) => fetch(`${sandbox.controlUrl}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const signed = (await (await post('/sign', { count: 2, critical: true })).json()) as any;
    expect(signed.signed).toHaveLength(2);
    expect(sandbox.getStudyState(signed.signed[0].studyId)).toMatchObject({ isCritical: true, studyReportStatus: 'completed' });
    await post('/reset-counts', {});
    const route = 'GET /v1/autoScribe/studies/{studyId}';
    expect((await post('/faults', { route, status: 503, times: 2, retryAfterSeconds: 3 })).status).toBe(200);
    const path = `/v1/autoScribe/studies/${signed.signed[0].studyId}`;
    const first = await getJson(sandbox, path);
    expect([first.status, first.headers.get('retry-after'), typeof first.body.message]).toEqual([503, '3', 'string']);
    expect((await getJson(sandbox, path)).status).toBe(503);
    expect((await getJson(sandbox, path)).status).toBe(200);
    expect(await (await fetch(`${sandbox.controlUrl}/requests`)).json()).toEqual({ [route]: 3 });
    expect((await post('/faults', { route: 'nonsense' })).status).toBe(400);
  });

  it('retries a webhook the receiver refused, and drops webhooks when told to', async () => {
    receiver.received.length = 0;
    receiver.answerNext(500);
    const [ref] = await sandbox.signReports(1);
    expect(receiver.received).toHaveLength(2);
    expect(sandbox.webhookOutcomes().at(-1)).toMatchObject({ webhookId: ref!.webhookId, attempts: 2, delivered: true });
    sandbox.setWebhookDrop(true);
    await sandbox.signReports(3);
    expect(receiver.received).toHaveLength(2);
    expect(sandbox.webhookOutcomes().slice(-3).every((o) => o.dropped && !o.delivered)).toBe(true);
    sandbox.setWebhookDrop(false);
  });
});
