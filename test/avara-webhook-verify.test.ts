import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import { verifyAvaraWebhook } from '../src/avara/verify-webhook.ts';
import { ReportDeliveredDataSchema, WebhookEnvelopeSchema } from '../src/avara/schemas.ts';
import type { Sandbox } from '../src/standins/avara-sandbox/start-sandbox.ts';
import { startSandboxWithReceiver, type WebhookReceiver } from './support/sandbox-webhook-receiver.ts';
import { signWebhook } from './support/test-webhooks.ts';

// avara-api.md §7.2 test vector and the exact §8.1 body (503 bytes, no trailing newline).
const SECRET = 'whsec_aOIOjHX2f9EZlBx83v4B6sCOuq9thgxS';
const OTHER_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = '{"id":"whe_d79072af2b3341b69bd445d423339fbb","type":"report.delivered","data":{"studyId":"stu_6dd99d7be5f7ac3311100c5f3d5ef252","reportId":"rep_97ab38e6cc59468b8df3a358309c344c","isCritical":false,"presignedUrl":"https://reports-bucket.example.net/rep_97ab38e6cc59468b8df3a358309c344c.pdf?expires=1787322600&sig=Q2hhbmdlTWU","plainText":"EXAM: CT CHEST WITHOUT CONTRAST\\nINDICATION: Persistent cough.\\nFINDINGS: Lungs are clear. No pleural effusion.\\nIMPRESSION: No acute cardiopulmonary abnormality."}}';
const TIMESTAMP = 1787319000;
const HEADERS = {
  'webhook-id': 'msg_2vQ8kR4mT1xZ7pL0cN5bW3yH9sJ',
  'webhook-timestamp': String(TIMESTAMP),
  'webhook-signature': 'v1,lloWcHos/BGJD9lBCr3fbvAlVmhbKkk5/m4f15OP9bk=',
};

describe('verifyAvaraWebhook with the published test vector', () => {
  afterEach(() => void vi.useRealTimers());

  it('uses the exact 503-byte body of §8.1', () => {
    expect(Buffer.byteLength(BODY)).toBe(503);
  });

  it('accepts the vector and returns the parsed event', () => {
    const verdict = verifyAvaraWebhook(BODY, HEADERS, [SECRET], TIMESTAMP);
    expect(verdict).toEqual({ ok: true, payload: JSON.parse(BODY) });
  });

  it('reads the real clock when no time is given', () => {
    vi.useFakeTimers({ now: TIMESTAMP * 1000 + 120_000, toFake: ['Date'] });
    expect(verifyAvaraWebhook(BODY, HEADERS, [SECRET]).ok).toBe(true);
  });

  it('accepts a timestamp exactly 300 s old or 300 s ahead, and rejects 301 s', () => {
    expect(verifyAvaraWebhook(BODY, HEADERS, [SECRET], TIMESTAMP + 300).ok).toBe(true);
    expect(verifyAvaraWebhook(BODY, HEADERS, [SECRET], TIMESTAMP - 300).ok).toBe(true);
    expect(verifyAvaraWebhook(BODY, HEADERS, [SECRET], TIMESTAMP + 301)).toEqual({ ok: false, status: 401, code: 'stale_timestamp' });
    expect(verifyAvaraWebhook(BODY, HEADERS, [SECRET], TIMESTAMP - 301)).toEqual({ ok: false, status: 401, code: 'stale_timestamp' });
  });

  it('accepts when any of several secrets matches (rotation)', () => {
    expect(verifyAvaraWebhook(BODY, HEADERS, [OTHER_SECRET, SECRET], TIMESTAMP).ok).toBe(true);
  });

  it('accepts a header carrying several signatures when one is valid, ignoring other versions', () => {
    const signature = `v2,${HEADERS['webhook-signature'].slice(3)} v1,AAAA v1,${HEADERS['webhook-signature'].slice(3)}`;
    expect(verifyAvaraWebhook(BODY, { ...HEADERS, 'webhook-signature': signature }, [SECRET], TIMESTAMP).ok).toBe(true);
  });

  it('treats header names case-insensitively and takes array values', () => {
    const headers = {
      'Webhook-Id': [HEADERS['webhook-id']],
      'WEBHOOK-TIMESTAMP': HEADERS['webhook-timestamp'],
      'webhook-signature': HEADERS['webhook-signature'],
    };
    expect(verifyAvaraWebhook(BODY, headers, [SECRET], TIMESTAMP).ok).toBe(true);
  });

  it('answers 401 missing_signature_headers when a header is absent', () => {
    for (const name of Object.keys(HEADERS)) {
      const headers: Record<string, string | undefined> = { ...HEADERS, [name]: undefined };
      expect(verifyAvaraWebhook(BODY, headers, [SECRET], TIMESTAMP)).toEqual({ ok: false, status: 401, code: 'missing_signature_headers' });
    }
  });

  it('answers 401 bad_signature for another secret, a changed body, a changed id or a non-numeric timestamp', () => {
    const bad = { ok: false, status: 401, code: 'bad_signature' };
    expect(verifyAvaraWebhook(BODY, HEADERS, [OTHER_SECRET], TIMESTAMP)).toEqual(bad);
    expect(verifyAvaraWebhook(BODY.replace('false', 'true '), HEADERS, [SECRET], TIMESTAMP)).toEqual(bad);
    expect(verifyAvaraWebhook(`${BODY}\n`, HEADERS, [SECRET], TIMESTAMP)).toEqual(bad);
    expect(verifyAvaraWebhook(BODY, { ...HEADERS, 'webhook-id': 'msg_other' }, [SECRET], TIMESTAMP)).toEqual(bad);
    expect(verifyAvaraWebhook(BODY, { ...HEADERS, 'webhook-timestamp': '1787319000x' }, [SECRET], TIMESTAMP)).toEqual(bad);
    expect(verifyAvaraWebhook(BODY, HEADERS, [], TIMESTAMP)).toEqual(bad);
  });

  it('ignores a malformed secret in the list instead of throwing', () => {
    expect(verifyAvaraWebhook(BODY, HEADERS, ['whsec_', SECRET], TIMESTAMP).ok).toBe(true);
  });

  it('is reproduced by the tests\' own signer, so signed test webhooks are what Avara sends', () => {
    expect(signWebhook(SECRET, BODY, { id: HEADERS['webhook-id'], timestampSeconds: TIMESTAMP })).toEqual(HEADERS);
  });

  it('answers 400 malformed_json when a correctly signed body is not JSON', () => {
    const body = '{"id": "whe_1", truncated';
    const headers = signWebhook(SECRET, body, { id: HEADERS['webhook-id'], timestampSeconds: TIMESTAMP });
    expect(verifyAvaraWebhook(body, headers, [SECRET], TIMESTAMP)).toEqual({ ok: false, status: 400, code: 'malformed_json' });
  });
});

describe('webhooks sent by the sandbox', () => {
  let sandbox: Sandbox;
  let receiver: WebhookReceiver;
  let stop: () => Promise<void>;
  beforeAll(async () => { ({ sandbox, receiver, stop } = await startSandboxWithReceiver({ seed: 11 })); });
  afterAll(() => stop());

  it('verify with verifyAvaraWebhook and carry a report.delivered event for the signed report', async () => {
    const refs = await sandbox.signReports(3);
    expect(receiver.received).toHaveLength(3);
    for (const [index, ref] of refs.entries()) {
      const { headers, rawBody } = receiver.received[index]!;
      const verdict = verifyAvaraWebhook(rawBody, headers, [sandbox.webhookKey]);
      if (!verdict.ok) throw new Error(`rejected: ${verdict.code}`);
      expect(headers['webhook-id']).toBe(ref.webhookId);
      const envelope = WebhookEnvelopeSchema.parse(verdict.payload);
      expect(envelope.type).toBe('report.delivered');
      expect(envelope.id).toMatch(/^whe_[0-9a-f]{32}$/);
      expect(Object.keys(envelope).sort()).toEqual(['data', 'id', 'type']);
      const data = ReportDeliveredDataSchema.parse(envelope.data);
      expect(data).toMatchObject({ studyId: ref.studyId, reportId: ref.reportId });
      expect(data.plainText).toContain('IMPRESSION:');
    }
  });

  it('are refused when checked against another key', async () => {
    receiver.received.length = 0;
    await sandbox.signReports(1);
    const { headers, rawBody } = receiver.received[0]!;
    expect(verifyAvaraWebhook(rawBody, headers, [OTHER_SECRET])).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it('redelivered with resendWebhook keep the webhook-id and body and carry a fresh valid signature', async () => {
    receiver.received.length = 0;
    const [ref] = await sandbox.signReports(1);
    await sandbox.resendWebhook(ref!.webhookId);
    expect(receiver.received).toHaveLength(2);
    const [first, again] = receiver.received;
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(again!.rawBody).toBe(first!.rawBody);
    expect(verifyAvaraWebhook(again!.rawBody, again!.headers, [sandbox.webhookKey]).ok).toBe(true);
  });
});
