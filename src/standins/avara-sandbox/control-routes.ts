import { json, Router, type Response } from 'express';
import { z } from 'zod';
import type { Sandbox } from './sandbox-handle.ts';

const SignBody = z.object({
  count: z.number().int().min(1).max(1000),
  addendum: z.boolean().optional(),
  critical: z.boolean().optional(),
  sendWebhooks: z.boolean().optional(),
  studyIds: z.array(z.string()).optional(),
});

// `{"delayMs": 2000}` signs each API-created study 2 s after its create; `{"delayMs": null}` stops.
const AutoSignBody = z.object({ delayMs: z.number().int().min(0).max(3_600_000).nullable() });

// One body may set several switches at once; each key is optional.
const FaultsBody = z.object({
  route: z.string().regex(/^(GET|POST|PATCH) \//).optional(),
  every: z.number().int().min(0).optional(),
  pageChaos: z.boolean().optional(),
  status: z.number().int().min(100).max(599).optional(),
  times: z.number().int().min(0).optional(),
  retryAfterSeconds: z.number().min(0).optional(),
  retryAfterMs: z.number().min(0).optional(),
  shouldRetry: z.boolean().optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  dropWebhooks: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
  pdfServesHtml: z.boolean().optional(),
  pdfOmitContentLength: z.boolean().optional(),
  pdfHost: z.string().min(1).nullable().optional(),
  pdfLinkTtlSeconds: z.number().int().min(0).optional(),
  webhookUrl: z.string().url().nullable().optional(),
  clear: z.boolean().optional(),
});

/** `/_sandbox/*`: the control API (not part of Avara's), without an API key. */
export function controlRoutes(sandbox: Sandbox): Router {
  const router = Router();
  router.use('/_sandbox', json());
  router.post('/_sandbox/sign', async (req, res) => {
    const body = SignBody.safeParse(req.body);
    if (!body.success) return void badRequest(res, body.error);
    const { count, ...options } = body.data;
    try {
      res.json({ signed: await sandbox.signReports(count, options) });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      res.status(409).json({ message: error.message });
    }
  });
  router.post('/_sandbox/faults', (req, res) => {
    const body = FaultsBody.safeParse(req.body);
    if (!body.success) return void badRequest(res, body.error);
    applyFaults(sandbox, body.data);
    res.json({ success: true });
  });
  router.post('/_sandbox/resend', async (req, res) => {
    const webhookId = (req.body as { webhookId?: unknown } | undefined)?.webhookId;
    if (typeof webhookId !== 'string') return void res.status(400).json({ message: 'webhookId is required' });
    res.json(await sandbox.resendWebhook(webhookId));
  });
  router.post('/_sandbox/auto-sign', (req, res) => {
    const body = AutoSignBody.safeParse(req.body);
    if (!body.success) return void badRequest(res, body.error);
    sandbox.setAutoSign(body.data.delayMs === null ? null : { delayMs: body.data.delayMs });
    res.json({ success: true });
  });
  router.get('/_sandbox/requests', (_req, res) => void res.json(sandbox.requestCounts()));
  router.get('/_sandbox/webhooks', (_req, res) => void res.json(sandbox.webhookOutcomes()));
  router.post('/_sandbox/reset-counts', (_req, res) => {
    sandbox.resetCounts();
    res.json({ success: true });
  });
  return router;
}

function applyFaults(sandbox: Sandbox, body: z.infer<typeof FaultsBody>): void {
  const { route, every, pageChaos, dropWebhooks, pdfServesHtml, pdfOmitContentLength, pdfHost, pdfLinkTtlSeconds, webhookUrl, clear, ...spec } = body;
  if (clear) sandbox.clearFaults();
  if (route) sandbox.failNext(route, spec);
  if (every !== undefined) sandbox.failEvery(every, spec);
  if (pageChaos !== undefined) sandbox.setPageChaos(pageChaos);
  if (dropWebhooks !== undefined) sandbox.setWebhookDrop(dropWebhooks);
  if (webhookUrl !== undefined) sandbox.setWebhookUrl(webhookUrl);
  sandbox.setPdfBehaviour({ servesHtml: pdfServesHtml, omitContentLength: pdfOmitContentLength, host: pdfHost, linkTtlSeconds: pdfLinkTtlSeconds });
}

function badRequest(res: Response, error: z.ZodError): void {
  // Field paths only: the control API is for tests, but its habits should match the product's.
  res.status(400).json({ message: error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ') });
}
