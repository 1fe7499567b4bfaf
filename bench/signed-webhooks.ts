import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { PreparedRequest } from './load-http.ts';

const TEXT = `FINDINGS: ${'The lungs are clear. No pleural effusion or pneumothorax. Heart size is normal. '.repeat(40)}`;

/**
 * `count` signed report.delivered webhooks, each with its own webhook-id, event id and report,
 * signed now (the receiver allows 5 minutes), about 4 KB each like Avara's with plainText.
 */
export function signedReportWebhooks(webhookKey: string, count: number, pdfHost: string): PreparedRequest[] {
  const signer = new Webhook(webhookKey);
  const at = new Date();
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return Array.from({ length: count }, () => {
    const id = `msg_${randomBytes(16).toString('hex')}`;
    const reportId = `rep_${randomBytes(16).toString('hex')}`;
    const body = JSON.stringify({
      id: `whe_${randomBytes(16).toString('hex')}`,
      type: 'report.delivered',
      data: {
        studyId: `stu_${randomBytes(16).toString('hex')}`,
        reportId,
        isCritical: false,
        presignedUrl: `${pdfHost}/_files/${reportId}.pdf?expires=9999999999&sig=x`,
        plainText: TEXT,
      },
    });
    return {
      body,
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signer.sign(id, at, body) },
    };
  });
}
