import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { controlRoutes } from './control-routes.ts';
import { createFaultSwitches } from './fault-switches.ts';
import { fileRoutes } from './file-routes.ts';
import { createPresigner, PDF_LINK_TTL_SECONDS } from './presigned-link.ts';
import { reportPdfBytes } from './report-pdf-bytes.ts';
import { reportRoutes } from './report-routes.ts';
import type { Sandbox } from './sandbox-handle.ts';
import type { SandboxContext } from './sandbox-context.ts';
import type { SandboxReport } from './sandbox-types.ts';
import { createSandboxState } from './sandbox-state.ts';
import { createSeededRandom, type SeededRandom } from './seeded-random.ts';
import { sendReportDelivered, signReports } from './sign-reports.ts';
import { studyRoutes } from './study-routes.ts';
import { studyWriteRoutes } from './study-write-routes.ts';
import { viewerRoutes } from './viewer-routes.ts';
import { createAutoSigner } from './auto-sign.ts';
import { userRoutes } from './user-routes.ts';
import { createWebhookSender } from './webhook-sender.ts';

export type { Sandbox };

export interface SandboxOptions {
  port?: number;             // 0 = any free port
  host?: string;             // default 127.0.0.1
  apiKey?: string;           // sk_live_<32 hex>, generated when absent
  webhookKey?: string;       // whsec_<base64>, generated when absent
  webhookUrl?: string;
  studies?: number;          // completed studies to seed
  seed?: number;             // same seed, same data
  pdfHost?: string;          // host[:port] of presigned links; default the sandbox itself
  realisticPdfSizes?: boolean; // PDFs of 100-300 KB (a deterministic scan attached) instead of ~5 KB
  now?: () => Date;          // the sandbox's clock (link expiry, timestamps, webhook signatures)
}


export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const now = options.now ?? (() => new Date());
  const random = createSeededRandom(options.seed);
  const apiKey = options.apiKey ?? `sk_live_${randomBytes(16).toString('hex')}`;
  const webhookKey = options.webhookKey ?? `whsec_${randomBytes(24).toString('base64')}`;
  const state = createSandboxState(random, now, seededUuid(random));
  seedStudies(state, random, now(), options.studies ?? 0);
  let origin = '';
  const ctx: SandboxContext = {
    state, now, apiKey, faults: createFaultSwitches(), pageChaos: { enabled: false }, presigner: createPresigner(), ownOrigin: () => origin,
    pdf: { linkTtlSeconds: PDF_LINK_TTL_SECONDS, servesHtml: false, omitContentLength: false, host: options.pdfHost ?? null, realisticSizes: options.realisticPdfSizes ?? false },
    onStudyCreated: (study) => autoSigner.studyCreated(study),
  };
  const dropRandom = createSeededRandom((options.seed ?? random.int(0, 2 ** 30)) + 1);
  const sender = createWebhookSender({ url: options.webhookUrl ?? null, webhookKey, now, random: dropRandom.next });
  const autoSigner = createAutoSigner((study) => sendReportDelivered(ctx, sender, random, state.signCreated(study)));
  const sandbox = buildSandbox(ctx, sender, random, { apiKey, webhookKey });
  sandbox.setAutoSign = (setting) => autoSigner.set(setting);
  const server = createServer(buildApp(ctx, sandbox));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  origin = originOf(server.address() as AddressInfo);
  Object.assign(sandbox, { baseUrl: origin, controlUrl: `${origin}/_sandbox` });
  sandbox.stop = () => new Promise<void>((resolve) => {
    autoSigner.stop();
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return sandbox;
}

function buildSandbox(
  ctx: SandboxContext, sender: ReturnType<typeof createWebhookSender>, random: SeededRandom,
  keys: { apiKey: string; webhookKey: string },
): Sandbox {
  return {
    ...keys, baseUrl: '', controlUrl: '',
    signReports: (count, options) => signReports(ctx, sender, random, count, options),
    failNext: (route, spec) => ctx.faults.failNext(route, spec),
    failEvery: (n, spec) => ctx.faults.failEvery(n, spec),
    clearFaults: () => ctx.faults.clearFaults(),
    setWebhookDrop: (ratio) => sender.setDropRatio(typeof ratio === 'boolean' ? Number(ratio) : ratio),
    setWebhookUrl: (url) => sender.setUrl(url),
    setPageChaos(enabled) {
      ctx.pageChaos.enabled = enabled;
    },
    setPdfBehaviour(change) {
      for (const [key, value] of Object.entries(change)) if (value !== undefined) Object.assign(ctx.pdf, { [key]: value });
    },
    setAutoSign: () => {},
    getViewerStudyByUid: (uid) => [...ctx.state.viewerStudies.values()].find((s) => s.studyInstanceUid === uid),
    requestCounts: () => ctx.faults.counts(),
    resetCounts: () => ctx.faults.resetCounts(),
    getStudyState(studyId) {
      const study = ctx.state.studies.get(studyId);
      if (!study) throw new Error(`unknown study ${studyId}`);
      return study;
    },
    getReportState: (reportId) => reportState(ctx, reportId),
    allReportStates: () => [...ctx.state.reports.values()],
    pdfBytes: (reportId) => reportPdfBytes(reportState(ctx, reportId), { realisticSize: ctx.pdf.realisticSizes }),
    resendWebhook: (webhookId) => sender.resend(webhookId),
    webhookOutcomes: () => sender.outcomes(),
    stop: async () => {},
  };
}

function buildApp(ctx: SandboxContext, sandbox: Sandbox): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(studyWriteRoutes(ctx), studyRoutes(ctx), viewerRoutes(ctx), reportRoutes(ctx), userRoutes(ctx), fileRoutes(ctx), controlRoutes(sandbox));
  app.use((_req, res) => void res.status(404).json({ message: 'Not found' }));
  const onError: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, _next) => {
    const status = error.type === 'entity.parse.failed' ? 400 : 500;
    res.status(status).json({ message: status === 400 ? 'Malformed JSON body' : 'Internal error' });
  };
  app.use(onError);
  return app;
}

function reportState(ctx: SandboxContext, reportId: string): SandboxReport {
  const stored = ctx.state.reports.get(reportId);
  if (!stored) throw new Error(`unknown report ${reportId}`);
  return stored;
}

function seedStudies(state: ReturnType<typeof createSandboxState>, random: SeededRandom, now: Date, count: number): void {
  for (let i = 0; i < count; i++) {
    // Signed between an hour and 30 days ago, so seeded data looks like a tenant's history.
    state.addSignedStudy(new Date(now.getTime() - random.int(3600, 30 * 86_400) * 1000), undefined);
  }
}

function seededUuid(random: SeededRandom): string {
  return `${random.hex(8)}-${random.hex(4)}-4${random.hex(3)}-${random.pick(['8', '9', 'a', 'b'])}${random.hex(3)}-${random.hex(12)}`;
}

function originOf(address: AddressInfo): string {
  const host = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
