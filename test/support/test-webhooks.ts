import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Sandbox } from '../../src/standins/avara-sandbox/start-sandbox.ts';

export type WebhookHeaders = { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };

/**
 * The three Standard Webhooks headers for `rawBody`, signed with `key` (whsec_...) the way Avara's
 * sender does. The one signer of the tests: the in-process env, the child harness and the
 * verification tests all build their headers here.
 */
export function signWebhook(key: string, rawBody: string, options: { id?: string; timestampSeconds?: number } = {}): WebhookHeaders {
  const id = options.id ?? `msg_${randomBytes(12).toString('hex')}`;
  const timestampSeconds = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': new Webhook(key).sign(id, new Date(timestampSeconds * 1000), rawBody),
  };
}

/** A report.delivered body as Avara sends it (avara-api.md §8.1), with a fresh event id unless given. */
export function reportDeliveredBody(ref: { studyId: string; reportId: string }, presignedUrl: string, eventId = `whe_${randomBytes(16).toString('hex')}`): string {
  return JSON.stringify({
    id: eventId,
    type: 'report.delivered',
    data: { studyId: ref.studyId, reportId: ref.reportId, isCritical: false, presignedUrl },
  });
}

/** A presigned PDF link exactly as the sandbox's API hands it out now. */
export async function fetchPdfLink(sandbox: Sandbox, reportId: string): Promise<string> {
  const response = await fetch(`${sandbox.baseUrl}/v1/autoScribe/reports/pdf?reportId=${reportId}`, {
    headers: { authorization: `Bearer ${sandbox.apiKey}` },
  });
  return ((await response.json()) as { presignedUrl: string }).presignedUrl;
}
