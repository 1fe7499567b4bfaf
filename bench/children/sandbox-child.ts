import { Webhook } from 'standardwebhooks';
import { startSandbox } from '../../src/standins/avara-sandbox/start-sandbox.ts';
import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { postSignedWebhook } from '../../src/standins/avara-sandbox/webhook-sender.ts';
import { serveRpc } from '../child-rpc.ts';

// The Avara sandbox in its own process, with real-sized PDFs. It also plays Avara's webhook
// sender for the bench, with a bounded number of webhooks in flight (the sandbox's own sender
// fires all of a batch at once).
const sandbox = await startSandbox({
  port: 0,
  seed: Number(process.env.BENCH_SEED ?? 20261126),
  studies: Number(process.env.BENCH_STUDIES ?? 0),
  realisticPdfSizes: process.env.BENCH_SMALL_PDFS !== '1',
});
const signer = new Webhook(sandbox.webhookKey);
let signed: SignedRef[] = [];
let round = 0;

serveRpc({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, webhookKey: sandbox.webhookKey }, {
  /** Signs off `count` new reports without sending their webhooks; returns their refs. */
  sign: async (count: number) => {
    const refs: SignedRef[] = [];
    // In slices: signing builds report texts, and one huge synchronous loop starves the server.
    for (let done = 0; done < count; done += 200) refs.push(...(await sandbox.signReports(Math.min(200, count - done), { sendWebhooks: false })));
    signed = [...signed, ...refs];
    return refs;
  },
  /** Posts a signed report.delivered for each of `reportIds` (default: all signed), `inFlight` at a time. */
  sendWebhooks: async (arg: { url: string; inFlight: number; reportIds?: string[] }) => {
    round += 1;
    const wanted = arg.reportIds ? new Set(arg.reportIds) : undefined;
    const refs = wanted ? signed.filter((r) => wanted.has(r.reportId)) : signed;
    let next = 0;
    let failures = 0;
    const lane = async () => {
      while (next < refs.length) {
        const ref = refs[next++]!;
        if (!(await postReportDelivered(arg.url, ref, round))) failures += 1;
      }
    };
    await Promise.all(Array.from({ length: arg.inFlight }, lane));
    return { sent: refs.length, failures };
  },
  requestCounts: () => sandbox.requestCounts(),
  resetCounts: () => sandbox.resetCounts(),
  /** A signed webhook body for load tests: [rawBody, headers] pairs, each with its own ids. */
  webhookSamples: async (count: number) => {
    const refs = signed.slice(0, count);
    return Promise.all(refs.map(async (ref, index) => {
      const body = await reportDeliveredBody(ref, `whe_sample_${index}`);
      return { body, studyId: ref.studyId, reportId: ref.reportId };
    }));
  },
});

async function postReportDelivered(url: string, ref: SignedRef, roundNo: number): Promise<boolean> {
  const id = `msg_bench_${roundNo}_${ref.reportId}`;
  const body = await reportDeliveredBody(ref, `whe_bench_${roundNo}_${ref.reportId}`);
  const at = new Date();
  for (let attempt = 0; attempt < 3; attempt++) {
    const status = await postSignedWebhook(url, signer, id, body, at);
    if (status !== null && status >= 200 && status < 300) return true;
    // not answered 2xx: try again, like Avara's sender
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function reportDeliveredBody(ref: SignedRef, eventId: string): Promise<string> {
  const response = await fetch(`${sandbox.baseUrl}/v1/autoScribe/reports/pdf?reportId=${ref.reportId}`, {
    headers: { authorization: `Bearer ${sandbox.apiKey}` },
  });
  const { presignedUrl, isCritical } = (await response.json()) as { presignedUrl: string; isCritical?: boolean };
  const plainText = sandbox.getReportState(ref.reportId).plainText;
  return JSON.stringify({
    id: eventId,
    type: 'report.delivered',
    data: { studyId: ref.studyId, reportId: ref.reportId, isCritical: isCritical ?? false, presignedUrl, ...(plainText ? { plainText } : {}) },
  });
}
