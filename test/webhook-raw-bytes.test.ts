import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAvaraWebhook } from '../src/avara/verify-webhook.ts';
import { parsePrometheusText } from './support/parse-prometheus-text.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const SECRET = 'whsec_aOIOjHX2f9EZlBx83v4B6sCOuq9thgxS';
const NOW = 1787319000;

/** A Standard Webhooks signature over the bytes exactly as sent, as a correct sender computes it. */
function signBytes(secret: string, id: string, timestamp: number, body: Buffer): Record<string, string> {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

// Two bodies that differ only in invalid UTF-8 bytes: decoded as text, both read as U+FFFD.
const WITH_FF = Buffer.concat([Buffer.from('{"id":"whe_1","type":"other","data":{"note":"'), Buffer.from([0xff]), Buffer.from('"}}')]);
const WITH_FE = Buffer.concat([Buffer.from('{"id":"whe_1","type":"other","data":{"note":"'), Buffer.from([0xfe]), Buffer.from('"}}')]);

describe('webhook signatures over the raw bytes (issue 21, item 6)', () => {
  it('accepts the signature a correct sender computed over bytes that are not UTF-8, and refuses the JSON as malformed', () => {
    const headers = signBytes(SECRET, 'msg_raw', NOW, WITH_FF);
    expect(verifyAvaraWebhook(WITH_FF, headers, [SECRET], NOW)).toEqual({ ok: false, status: 400, code: 'malformed_json' });
  });

  it('refuses another body under that signature, though both decode to the same text', () => {
    expect(WITH_FF.toString('utf8')).toBe(WITH_FE.toString('utf8'));
    const headers = signBytes(SECRET, 'msg_raw', NOW, WITH_FF);
    expect(verifyAvaraWebhook(WITH_FE, headers, [SECRET], NOW)).toEqual({ ok: false, status: 401, code: 'bad_signature' });
  });
});

describe('POST /webhooks/avara with raw bytes and types of the sender\'s choosing (items 6 and 7)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
  });
  afterAll(() => env.stop());

  const post = (body: Buffer, headers: Record<string, string>) =>
    fetch(`${env.app.url}/webhooks/avara`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers } });

  it('answers 400 malformed_json (not 401) to a correctly signed body that is not UTF-8, storing nothing', async () => {
    const key = env.sandbox.webhookKey;
    const response = await post(WITH_FF, signBytes(key, 'msg_raw_http', Math.floor(Date.now() / 1000), WITH_FF));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'malformed_json' });
    expect(sqliteOf(env.app).sqlite.prepare(`select count(*) as n from inbox`).get()).toEqual({ n: 0 });
  });

  it('counts signed webhooks of undocumented types under one label, other, and logs their type cut short', async () => {
    const key = env.sandbox.webhookKey;
    const long = `x.${'y'.repeat(300)}`;
    for (let i = 0; i < 50; i++) {
      const type = i === 0 ? long : `random.type_${i}`;
      const body = Buffer.from(JSON.stringify({ id: `whe_t${i}`, type, data: {} }));
      const response = await post(body, signBytes(key, `msg_type_${i}`, Math.floor(Date.now() / 1000), body));
      expect(response.status).toBe(200);
    }
    const metrics = parsePrometheusText(await (await fetch(`${env.app.url}/metrics`)).text());
    const types = new Set(metrics.samples.filter((s) => s.name === 'avara_fhir_sync_webhooks_received_total').map((s) => s.labels.type));
    expect(types.has('other')).toBe(true);
    expect([...types].filter((t) => t?.startsWith('random.') || t?.startsWith('x.'))).toEqual([]);
    expect(metrics.value('avara_fhir_sync_webhooks_received_total', { type: 'other', outcome: 'not_handled' })).toBe(50);
    expect(env.logText()).not.toContain('y'.repeat(100));
  });
});
