import express, { Router, type Response } from 'express';
import { getDelivery, replayDelivery, requeueDelivery } from '../../store/deliveries.ts';
import { summarizeDeliveries } from '../../store/delivery-summary.ts';
import { deriveAttempts } from '../../store/derive-attempts.ts';
import { listDeliveries } from '../../store/list-deliveries.ts';
import type { Store } from '../../store/open-store.ts';
import { auditTrailOf } from '../deliveries-routes.ts';
import { parseDeliveryQuery } from '../delivery-query.ts';
import { html, type SafeHtml } from './html.ts';
import type { AuthFailures } from '../auth-failures.ts';
import { createPageAuth } from './page-auth.ts';
import { renderDeliveryDetail } from './render-delivery-detail.ts';
import { renderDeliveryList } from './render-delivery-list.ts';
import { PAGE_HEADERS, renderLayout } from './render-layout.ts';
import { requireSameOrigin } from './same-origin.ts';

export interface AuditPageDeps {
  store: Store;
  settings: { host: string; adminToken: string | undefined; fhirBaseUrl?: string };
  /** DELIVERY_TARGETS, in order; the first is shown when a link names none. */
  targets: readonly string[];
  /** Refused sign-ins, shared with the API's token check. */
  authFailures?: AuthFailures;
  onRequeued?: () => void;
  now?: () => number;
}

// Refresh while the worker may still change the row; a finished delivery stays put.
const IN_FLIGHT_REFRESH_SECONDS = 2;

/** GET / (list), GET /deliveries/:reportId (detail), and the Retry / Replay form posts. */
export function auditPageRouter(deps: AuditPageDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  const auth = createPageAuth(deps.settings, deps.now, deps.authFailures);
  const sameOrigin = requireSameOrigin();
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const signedIn = deps.settings.adminToken !== undefined;
  const send = (res: Response, status: number, title: string, body: SafeHtml, refreshSeconds?: number) =>
    res.status(status).set(PAGE_HEADERS).type('html').send(renderLayout(title, body, { refreshSeconds, signedIn }).value);

  router.use((_req, res, next) => {
    res.set(PAGE_HEADERS);
    next();
  });
  router.post('/login', sameOrigin, form, auth.login);
  router.post('/logout', sameOrigin, auth.logout);

  router.get('/', auth.authenticate, (req, res) => {
    const filters = pickFilters(req.query);
    const query = parseDeliveryQuery(req.query, { strict: false });
    const summary = summarizeDeliveries(deps.store.db, now());
    const page = query.ok ? listDeliveries(deps.store.db, query.filter) : { items: [], nextCursor: null };
    const body = renderDeliveryList({ summary, ...page, filters, targets: deps.targets, error: query.ok ? undefined : query.message, fhirBaseUrl: deps.settings.fhirBaseUrl });
    send(res, query.ok ? 200 : 400, 'Deliveries', body);
  });

  router.get('/deliveries/:reportId', auth.authenticate, (req, res) => {
    const delivery = getDelivery(deps.store.db, String(req.params.reportId), pickTarget(req.query.target, deps.targets));
    if (!delivery) {
      send(res, 404, 'Not found', renderNotFound(String(req.params.reportId)));
      return;
    }
    const audit = auditTrailOf(deps.store, delivery);
    const flash = typeof req.query.done === 'string' ? req.query.done : undefined;
    const body = renderDeliveryDetail({ delivery, attempts: deriveAttempts(audit), audit, fhirBaseUrl: deps.settings.fhirBaseUrl, flash });
    const inFlight = delivery.state === 'queued' || delivery.state === 'in_progress';
    send(res, 200, `Report ${delivery.reportId}`, body, inFlight ? IN_FLIGHT_REFRESH_SECONDS : undefined);
  });

  for (const [action, requeue] of [['retry', requeueDelivery], ['replay', replayDelivery]] as const) {
    router.post(`/deliveries/:reportId/${action}`, sameOrigin, auth.authenticate, (req, res) => {
      const reportId = String(req.params.reportId);
      const target = pickTarget((req.body as { target?: unknown } | undefined)?.target, deps.targets);
      const result = requeue(deps.store.db, reportId, now(), 'audit_page', target);
      if (result === 'requeued') deps.onRequeued?.();
      if (result === 'not_found') send(res, 404, 'Not found', renderNotFound(reportId));
      else res.redirect(303, `/deliveries/${encodeURIComponent(reportId)}?${target === deps.targets[0] ? '' : `target=${encodeURIComponent(target)}&`}done=${result}`);
    });
  }
  return router;
}

function pickFilters(query: Record<string, unknown>): { state?: string; from?: string; to?: string; critical?: string; target?: string } {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return { state: text(query.state), from: text(query.from), to: text(query.to), critical: text(query.critical), target: text(query.target) };
}

/** A configured target, else the first one (the page's links and forms always name one). */
function pickTarget(value: unknown, targets: readonly string[]): string {
  return typeof value === 'string' && targets.includes(value) ? value : targets[0]!;
}

function renderNotFound(reportId: string): SafeHtml {
  return html`<p><a href="/">← all deliveries</a></p><h1>No delivery for report <code>${reportId}</code></h1>`;
}
