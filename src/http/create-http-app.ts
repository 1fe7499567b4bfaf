import type { JSONWebKeySet } from 'jose';
import express, { type ErrorRequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import { handleAvaraWebhook, type IntakeDeps } from '../deliveries/intake.ts';
import { deliveriesRouter } from './deliveries-routes.ts';
import type { Registry } from 'prom-client';
import { healthRouter, type Readiness } from './health-routes.ts';
import { createAuthFailures } from './auth-failures.ts';
import { metricsRouter } from './metrics-routes.ts';
import { auditPageRouter } from './page/audit-page-routes.ts';
import { summaryRouter } from './summary-routes.ts';
import { requireAdmin } from './require-admin.ts';
import type { AdminOperator } from '../config/admin-operators.ts';
import { fhirWebhookRouter, type FhirWebhookDeps } from './fhir-webhook-routes.ts';
import { jwksRouter } from './jwks-routes.ts';
import { guardWebhookIntake } from './guard-webhook-intake.ts';
import { requireOwnHost } from './require-own-host.ts';
import { requireSameOriginUnlessBearer } from './page/same-origin.ts';

export interface HttpSettings {
  host: string;
  /** ADMIN_TOKEN (as `admin`) and ADMIN_TOKENS: names and token digests. */
  adminOperators: readonly AdminOperator[];
  /** TRUST_PROXY: the proxies whose X-Forwarded-Proto/-For are believed; false: none. */
  trustProxy?: string[] | false;
  /** Base of the links from the audit page to FHIR resources. */
  fhirBaseUrl?: string;
  /** MAX_ATTEMPTS, for the audit page's "attempt 3 of 12". */
  maxAttempts?: number;
}

export interface HttpDeps {
  store: Store;
  log: Logger;
  settings: HttpSettings;
  intake: IntakeDeps;
  /** While false (shutting down), new webhooks get 503 + Retry-After and are not stored. */
  isAccepting: () => boolean;
  /** Serves /metrics from this registry when given. */
  metrics?: Registry;
  readiness?: Readiness;
  /** POST /webhooks/fhir (orders); answers 503 when absent or without a secret. */
  fhirWebhook?: FhirWebhookDeps;
  /** Counts a refused admin authentication (metrics), by surface. */
  onAuthFailure?: (surface: string) => void;
  /** The public key of FHIR_AUTH=private_key_jwt, which the EHR fetches to check our assertions. */
  jwks?: JSONWebKeySet;
}

// design.md: bodies over 1 MiB are refused with 413.
const WEBHOOK_BODY_LIMIT = '1mb';

export function createHttpApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.settings.trustProxy ?? false);
  // The signature covers the raw bytes: no JSON parser may touch the body first. Registered
  // before the host and same-origin guards, which let /webhooks/ through anyway: every webhook
  // would pay for two middleware calls that can only say yes.
  const guard = guardWebhookIntake({ log: deps.log, now: deps.intake.now ?? Date.now, count: deps.intake.count });
  app.post('/webhooks/avara', guard, express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    if (!deps.isAccepting()) {
      res.status(503).set('Retry-After', '30').json({ error: 'shutting_down' });
      return;
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer = await handleAvaraWebhook(deps.intake, raw, req.headers);
    const body = answer.pending ? await answer.pending : answer.body;
    writeJson(res, answer.status, answer.headers, body);
  });

  app.use(requireOwnHost(deps.settings), requireSameOriginUnlessBearer());

  app.use(fhirWebhookRouter(deps.fhirWebhook ?? { secret: undefined }));
  app.use(healthRouter(deps.store, deps.readiness));
  app.use(jwksRouter(deps.jwks));
  // Scrapers send the same bearer token (Prometheus `authorization.credentials_file`).
  const authFailures = createAuthFailures({ log: deps.log, ...(deps.onAuthFailure ? { count: deps.onAuthFailure } : {}) });
  if (deps.metrics) app.use('/metrics', requireAdmin(deps.settings, authFailures, 'metrics'), metricsRouter(deps.metrics));
  app.use(auditPageRouter({ store: deps.store, settings: deps.settings, targets: deps.intake.targets, authFailures, onRequeued: deps.intake.onEnqueued }));
  app.use('/api', requireAdmin(deps.settings, authFailures, 'api'), deliveriesRouter({ store: deps.store, targets: deps.intake.targets, onRequeued: deps.intake.onEnqueued }), summaryRouter(deps.store));
  app.use(errorHandler(deps.log));
  return app;
}

/**
 * A webhook's answer written by node:http itself: express's res.json would hash every answer for
 * an ETag and check freshness, which no webhook sender uses, and hand node a Buffer beside the
 * header string (two chunks, a writev); one string is one write.
 */
function writeJson(res: Response, status: number, headers: Record<string, string> | undefined, body: unknown): void {
  const text = JSON.stringify(body) ?? '';
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    // A body cut off after an answer was already sent (the webhook guard's 408) needs nothing more.
    if (res.headersSent) return;
    const status = typeof error?.status === 'number' ? error.status : 500;
    if (status === 413) {
      // The parser that refused it knows its own limit (1 MiB for webhooks, a few KB for the sign-in form).
      const limit = typeof error?.limit === 'number' ? `${error.limit} bytes` : WEBHOOK_BODY_LIMIT;
      res.status(413).json({ error: 'payload_too_large', message: `body over ${limit}` });
      return;
    }
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: error.type ?? 'bad_request' });
      return;
    }
    log.error({ err: error instanceof Error ? error.name : 'unknown' }, 'unhandled error in HTTP handler');
    res.status(500).json({ error: 'internal' });
  };
}
