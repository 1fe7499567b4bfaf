import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAvaraClient, type AvaraClient, type AvaraClientConfig } from '../src/avara/avara-client.ts';
import { checkPdfUrl } from '../src/avara/check-pdf-url.ts';
import { SyncError } from '../src/errors.ts';
import { startSandbox, type Sandbox } from '../src/standins/avara-sandbox/start-sandbox.ts';

const STUDY = 'GET /v1/autoScribe/studies/{studyId}';
const FILES = 'GET /_files/{name}';

let sandbox: Sandbox;
let clock = Date.parse('2026-08-21T13:30:00Z');

function clientFor(overrides: Partial<AvaraClientConfig> = {}): AvaraClient {
  return createAvaraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, pdfAllowedHosts: ['127.0.0.1'], ...overrides });
}

async function failureOf(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  sandbox = await startSandbox({ studies: 250, seed: 77, now: () => new Date(clock) });
});
afterAll(() => sandbox.stop());
afterEach(() => {
  sandbox.clearFaults();
  sandbox.resetCounts();
  sandbox.setPdfBehaviour({ servesHtml: false, omitContentLength: false });
});

describe('Avara client reads', () => {
  it('returns validated studies, reports, texts, PDF links and users', async () => {
    const client = clientFor();
    const [ref] = await sandbox.signReports(1);
    const study = await client.getStudy(ref!.studyId);
    expect(study.reportIds).toEqual([expect.objectContaining({ reportId: ref!.reportId, status: 'completed' })]);
    expect((await client.getStudyByUid(study.studyInstanceUid)).studyId).toBe(ref!.studyId);
    const reports = await client.listReports(ref!.studyId);
    expect(reports.reports[0]).toMatchObject({ reportId: ref!.reportId, isAddendum: false });
    expect((await client.getReportText(ref!.reportId)).plainText).toContain('IMPRESSION:');
    expect((await client.getReportPdfUrl(ref!.reportId)).presignedUrl).toMatch(/\/_files\/rep_[0-9a-f]{32}\.pdf\?expires=/);
    const user = await client.getUser(reports.reports[0]!.userId);
    expect(user.npiNumber).toMatch(/^\d{10}$/);
  });

  it('pages through 250+ studies with limit 100, yielding each once and re-sending the filters', async () => {
    const client = clientFor();
    const everything: string[] = [];
    for await (const study of client.iterateStudies({}, { limit: 100 })) everything.push(study.studyId);
    expect(everything.length).toBeGreaterThanOrEqual(250);
    const cancelled = everything.slice(95, 105);   // across the first page boundary
    for (const id of cancelled) sandbox.getStudyState(id).isCancelled = true;
    sandbox.resetCounts();
    const seen: string[] = [];
    const filter = { studyReportStatus: ['completed', 'addendum_active'], isCancelled: false };
    for await (const study of client.iterateStudies(filter, { limit: 100 })) seen.push(study.studyId);
    for (const id of cancelled) sandbox.getStudyState(id).isCancelled = false;
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(everything.filter((id) => !cancelled.includes(id))));
    expect(sandbox.requestCounts()['GET /v1/autoScribe/studies']).toBe(Math.ceil(seen.length / 100));
  });

  it('answers a 404 as retryable avara_not_found (the read-after-webhook race)', async () => {
    const failure = await failureOf(clientFor().getStudy('stu_00000000000000000000000000000000'));
    expect([failure.code, failure.retryable]).toEqual(['avara_not_found', true]);
  });

  it('rejects a response that does not match the schema as permanent, naming no values', async () => {
    const [ref] = await sandbox.signReports(1, { sendWebhooks: false });
    const state = sandbox.getStudyState(ref!.studyId);
    const original = state.reportMetadata;
    state.reportMetadata = { ...original, dateOfBirth: 'Zoë 1971' };
    const failure = await failureOf(clientFor().getStudy(ref!.studyId));
    state.reportMetadata = original;
    expect([failure.code, failure.retryable]).toEqual(['avara_bad_response', false]);
    expect(failure.message).toContain('reportMetadata.dateOfBirth');
    expect(failure.message).not.toContain('Zoë');
  });
});

describe('Avara client retries and failures', () => {
  it('waits out a 429 with Retry-After and then succeeds', async () => {
    const [ref] = await sandbox.signReports(1, { sendWebhooks: false });
    sandbox.failNext(STUDY, { status: 429, times: 1, retryAfterSeconds: 0.3 });
    const started = performance.now();
    expect((await clientFor().getStudy(ref!.studyId)).studyId).toBe(ref!.studyId);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(sandbox.requestCounts()[STUDY]).toBe(2);
  });

  it('succeeds on the third attempt after two 500s', async () => {
    const [ref] = await sandbox.signReports(1, { sendWebhooks: false });
    sandbox.failNext(STUDY, { status: 500, times: 2 });
    expect((await clientFor().getStudy(ref!.studyId)).studyId).toBe(ref!.studyId);
    expect(sandbox.requestCounts()[STUDY]).toBe(3);
  });

  it('gives up after 3 attempts of 500 with a retryable avara_unavailable', async () => {
    const [ref] = await sandbox.signReports(1, { sendWebhooks: false });
    sandbox.failNext(STUDY, { status: 500, times: 10 });
    const failure = await failureOf(clientFor().getStudy(ref!.studyId));
    expect([failure.code, failure.retryable]).toEqual(['avara_unavailable', true]);
    expect(failure.message).toBe(`Avara ${STUDY} answered 500`);
    expect(sandbox.requestCounts()[STUDY]).toBe(3);
  });

  it('hands a Retry-After longer than maxRetryAfterMs back to the queue without waiting', async () => {
    const [ref] = await sandbox.signReports(1, { sendWebhooks: false });
    sandbox.failNext(STUDY, { status: 429, times: 1, retryAfterSeconds: 120 });
    const failure = await failureOf(clientFor().getStudy(ref!.studyId));
    expect([failure.code, failure.retryable, failure.retryAfterMs]).toEqual(['avara_rate_limited', true, 120_000]);
    expect(sandbox.requestCounts()[STUDY]).toBe(1);
  });

  it('obeys x-should-retry: false on a 503', async () => {
    const [ref] = await sandbox.signReports(1, { sendWebhooks: false });
    sandbox.failNext(STUDY, { status: 503, times: 3, shouldRetry: false });
    expect((await failureOf(clientFor().getStudy(ref!.studyId))).code).toBe('avara_unavailable');
    expect(sandbox.requestCounts()[STUDY]).toBe(1);
  });

  it('answers a wrong key with a permanent avara_unauthorized that does not echo the key', async () => {
    const wrongKey = 'sk_live_ffffffffffffffffffffffffffffffff';
    const failure = await failureOf(clientFor({ apiKey: wrongKey }).getUser('usr_00000000000000000000000000000000'));
    expect([failure.code, failure.retryable]).toEqual(['avara_unauthorized', false]);
    expect(failure.message).not.toContain(wrongKey);
  });

  it('treats a timeout and a refused connection as retryable avara_unavailable', async () => {
    const [ref] = await sandbox.signReports(1, { sendWebhooks: false });
    sandbox.failNext(STUDY, { delayMs: 400, times: 1 });
    const slow = await failureOf(clientFor({ timeoutMs: 100, maxRetries: 0 }).getStudy(ref!.studyId));
    expect([slow.code, slow.retryable, slow.message]).toEqual(['avara_unavailable', true, `Avara ${STUDY} timed out after 100 ms`]);
    const gone = await failureOf(createAvaraClient({
      baseUrl: 'http://127.0.0.1:1', apiKey: sandbox.apiKey, pdfAllowedHosts: [], maxRetries: 0,
    }).getStudy(ref!.studyId));
    expect([gone.code, gone.retryable]).toEqual(['avara_unavailable', true]);
  });
});

describe('PDF download', () => {
  async function freshLink(): Promise<{ reportId: string; url: string }> {
    const [ref] = await sandbox.signReports(1, { sendWebhooks: false });
    const { presignedUrl } = await clientFor().getReportPdfUrl(ref!.reportId);
    sandbox.resetCounts();
    return { reportId: ref!.reportId, url: presignedUrl };
  }

  it('returns exactly the PDF bytes the sandbox serves', async () => {
    const { reportId, url } = await freshLink();
    const bytes = await clientFor().downloadPdf(url);
    expect(Buffer.from(bytes.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    expect(bytes).toEqual(sandbox.pdfBytes(reportId));
  });

  it('reads a PDF streamed without Content-Length', async () => {
    const { reportId, url } = await freshLink();
    sandbox.setPdfBehaviour({ omitContentLength: true });
    expect(await clientFor().downloadPdf(url)).toEqual(sandbox.pdfBytes(reportId));
  });

  it('reports an expired link as retryable pdf_link_expired without leaking the token', async () => {
    const { url } = await freshLink();
    clock += 3601 * 1000;
    const failure = await failureOf(clientFor().downloadPdf(url));
    expect([failure.code, failure.retryable]).toEqual(['pdf_link_expired', true]);
    expect(failure.message).not.toContain('sig=');
    expect(sandbox.requestCounts()[FILES]).toBe(1);
  });

  it('refuses a host outside the allow-list without making any request', async () => {
    const { url } = await freshLink();
    const failure = await failureOf(clientFor({ pdfAllowedHosts: ['files.avara.example'] }).downloadPdf(url));
    expect([failure.code, failure.retryable]).toEqual(['pdf_host_not_allowed', false]);
    expect(sandbox.requestCounts()[FILES]).toBeUndefined();
  });

  it('fetches a plain-http link on 127.0.0.2, which is loopback too', async () => {
    const other = await startSandbox({ host: '127.0.0.2', seed: 78 });
    try {
      const [ref] = await other.signReports(1, { sendWebhooks: false });
      const client = createAvaraClient({ baseUrl: other.baseUrl, apiKey: other.apiKey, pdfAllowedHosts: ['127.0.0.2'] });
      const { presignedUrl } = await client.getReportPdfUrl(ref!.reportId);
      expect(presignedUrl).toMatch(/^http:\/\/127\.0\.0\.2:\d+\//);
      expect(await client.downloadPdf(presignedUrl)).toEqual(other.pdfBytes(ref!.reportId));
    } finally {
      await other.stop();
    }
  });

  it('refuses links the sandbox hands out to another host', async () => {
    sandbox.setPdfBehaviour({ host: 'localhost' });
    const { url } = await freshLink().finally(() => sandbox.setPdfBehaviour({ host: null }));
    expect(new URL(url).hostname).toBe('localhost');
    expect((await failureOf(clientFor().downloadPdf(url))).code).toBe('pdf_host_not_allowed');
    expect(sandbox.requestCounts()[FILES]).toBeUndefined();
  });

  it('reports an HTML page instead of a PDF as retryable pdf_invalid', async () => {
    const { url } = await freshLink();
    sandbox.setPdfBehaviour({ servesHtml: true });
    const failure = await failureOf(clientFor().downloadPdf(url));
    expect([failure.code, failure.retryable]).toEqual(['pdf_invalid', true]);
  });

  it('stops at the size cap, with and without Content-Length', async () => {
    const { url } = await freshLink();
    const small = clientFor({ pdfMaxBytes: 1000 });
    expect(await failureOf(small.downloadPdf(url))).toMatchObject({ code: 'pdf_too_large', retryable: false });
    sandbox.setPdfBehaviour({ omitContentLength: true });
    expect(await failureOf(small.downloadPdf(url))).toMatchObject({ code: 'pdf_too_large', retryable: false });
  });

  it('retries a storage 503 and then reports retryable pdf_unavailable', async () => {
    const { url } = await freshLink();
    sandbox.failNext(FILES, { status: 503, times: 5 });
    const failure = await failureOf(clientFor({ maxRetries: 1 }).downloadPdf(url));
    expect([failure.code, failure.retryable]).toEqual(['pdf_unavailable', true]);
    expect(sandbox.requestCounts()[FILES]).toBe(2);
  });
});

describe('PDF link policy', () => {
  const allowed = (url: string, hosts: string[]) => {
    try {
      checkPdfUrl(url, hosts);
      return true;
    } catch (error) {
      expect(error).toMatchObject({ code: 'pdf_host_not_allowed', retryable: false });
      return false;
    }
  };

  it('matches an entry without a port on any port, and an entry with a port exactly', () => {
    expect(allowed('https://files.example.net/a.pdf', ['files.example.net'])).toBe(true);
    expect(allowed('https://files.example.net:8443/a.pdf', ['files.example.net'])).toBe(true);
    expect(allowed('https://files.example.net:8443/a.pdf', ['files.example.net:8443'])).toBe(true);
    expect(allowed('https://files.example.net/a.pdf', ['files.example.net:8443'])).toBe(false);
    expect(allowed('https://files.example.net/a.pdf', ['files.example.net:443'])).toBe(true);
    expect(allowed('https://evil.example.net/a.pdf', ['files.example.net'])).toBe(false);
    expect(allowed('https://files.example.net.evil.example/a.pdf', ['files.example.net'])).toBe(false);
  });

  it('requires https except on loopback', () => {
    expect(allowed('http://files.example.net/a.pdf', ['files.example.net'])).toBe(false);
    expect(allowed('http://127.0.0.1:9000/a.pdf', ['127.0.0.1'])).toBe(true);
    expect(allowed('http://[::1]:9000/a.pdf', ['::1'])).toBe(true);
    expect(allowed('http://[::1]:9000/a.pdf', ['[::1]:9000'])).toBe(true);
    expect(allowed('http://localhost:9000/a.pdf', ['localhost'])).toBe(true);
    expect(allowed('ftp://127.0.0.1/a.pdf', ['127.0.0.1'])).toBe(false);
    expect(allowed('not a url', ['127.0.0.1'])).toBe(false);
  });

  it('counts all of 127.0.0.0/8 and its IPv4-mapped form as loopback', () => {
    expect(allowed('http://127.0.0.2:9000/a.pdf', ['127.0.0.2'])).toBe(true);
    expect(allowed('http://127.255.255.254/a.pdf', ['127.255.255.254'])).toBe(true);
    expect(allowed('http://[::ffff:127.0.0.2]:9000/a.pdf', ['::ffff:7f00:2'])).toBe(true);
    expect(allowed('http://[0:0:0:0:0:ffff:7f00:1]/a.pdf', ['[::ffff:7f00:1]'])).toBe(true);
  });

  it('still requires https for hosts that only look like loopback', () => {
    for (const [url, host] of [
      ['http://128.0.0.1/a.pdf', '128.0.0.1'],
      ['http://126.255.255.255/a.pdf', '126.255.255.255'],
      ['http://0.0.0.0/a.pdf', '0.0.0.0'],
      ['http://127.0.0.2.nip.io/a.pdf', '127.0.0.2.nip.io'],
      ['http://[::ffff:128.0.0.1]/a.pdf', '::ffff:8000:1'],
      ['http://[::127.0.0.1]/a.pdf', '::7f00:1'],
      ['http://[::2]/a.pdf', '::2'],
      ['http://localhost.example/a.pdf', 'localhost.example'],
    ] as const) {
      expect(allowed(url, [host]), url).toBe(false);
    }
  });

  it('judges decimal, octal and hex IPv4 spellings by the address they stand for', () => {
    expect(allowed('http://2130706433/a.pdf', ['127.0.0.1'])).toBe(true);
    expect(allowed('http://0x7f.0.0.2/a.pdf', ['127.0.0.2'])).toBe(true);
    expect(allowed('http://0177.0.0.2/a.pdf', ['127.0.0.2'])).toBe(true);
    expect(allowed('http://2130706434/a.pdf', ['127.0.0.1'])).toBe(false);
    expect(allowed('http://0x80000001/a.pdf', ['128.0.0.1'])).toBe(false);
    expect(allowed('http://0x7f.1/a.pdf', ['0x7f.1'])).toBe(false);
  });
});
