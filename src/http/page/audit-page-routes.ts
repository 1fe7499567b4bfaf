import express, { Router, type Response } from 'express';
import { hashMrn, readReason, type DeliverySearch, type Store } from '../../store/store.ts';
import { auditTrailOf } from '../deliveries-routes.ts';
import { deriveAttempts } from '../derive-attempts.ts';
import { parseDeliveryQuery } from '../delivery-query.ts';
import { html, type SafeHtml } from './html.ts';
import type { AuthFailures } from '../auth-failures.ts';
import { createPageAuth } from './page-auth.ts';
import { renderDeliveryDetail } from './render-delivery-detail.ts';
import { renderDeliveryList, type ListFilters } from './render-delivery-list.ts';
import { PAGE_HEADERS, renderLayout } from './render-layout.ts';
import { requireSameOrigin } from './same-origin.ts';
import { operatorOf } from '../require-admin.ts';
import type { AdminOperator } from '../../config/admin-operators.ts';

export interface AuditPageDeps {
  store: Store;
  settings: { host: string; adminOperators: readonly AdminOperator[]; fhirBaseUrl?: string; maxAttempts?: number };
  /** DELIVERY_TARGETS, in order; the first is shown when a link names none. */
  targets: readonly string[];
  /** Refused sign-ins, shared with the API's token check. */
  authFailures?: AuthFailures;
  onRequeued?: () => void;
  now?: () => number;
}

// Refresh while the worker may still change the row; a finished delivery stays put.
const IN_FLIGHT_REFRESH_SECONDS = 2;
// MAX_ATTEMPTS' default, for an app built without the setting (tests).
const DEFAULT_MAX_ATTEMPTS = 12;
const SEARCH_KINDS = ['report', 'study', 'accession', 'mrn'] as const;
const SEARCH_VALUE_MAX = 200;

/** GET / (list), GET /deliveries/:reportId (detail), and the Retry / Replay form posts. */
export function auditPageRouter(deps: AuditPageDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  const auth = createPageAuth(deps.settings, deps.now, deps.authFailures);
  const sameOrigin = requireSameOrigin();
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const maxAttempts = deps.settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const send = (res: Response, status: number, title: string, body: SafeHtml, refreshSeconds?: number) =>
    res.status(status).set(PAGE_HEADERS).type('html').send(renderLayout(title, body, { refreshSeconds, operator: operatorOf(res) }).value);

  router.use((_req, res, next) => {
    res.set(PAGE_HEADERS);
    next();
  });
  router.post('/login', sameOrigin, form, auth.login);
  router.post('/logout', sameOrigin, auth.logout);

  router.get('/', auth.authenticate, async (req, res) => {
    const filters = pickFilters(req.query);
    const query = parseDeliveryQuery(req.query, { strict: false });
    const summary = await deps.store.deliveries.summarize(now());
    const search = searchOf(filters);
    const error = !query.ok ? query.message : search === 'invalid' ? 'search: pick report id, study id, accession or MRN and give a value' : undefined;
    const page = query.ok && search !== 'invalid' ? await deps.store.deliveries.listGroups({ ...query.filter, ...(search ? { search } : {}) }) : { groups: [], nextCursor: null };
    const body = renderDeliveryList({ summary, ...page, filters, targets: deps.targets, maxAttempts, error, fhirBaseUrl: deps.settings.fhirBaseUrl });
    send(res, error ? 400 : 200, 'Deliveries', body);
  });

  // The MRN becomes its keyed hash here, before it could reach an address bar or a proxy's log.
  router.post('/search', sameOrigin, auth.authenticate, form, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const by = SEARCH_KINDS.find((k) => k === body.by) ?? 'report';
    const value = typeof body.q === 'string' ? body.q.trim().slice(0, SEARCH_VALUE_MAX) : '';
    if (value === '') {
      res.redirect(303, '/');
      return;
    }
    const params = new URLSearchParams(by === 'mrn' ? { by, h: hashMrn(await deps.store.settings.mrnHashKey(), value) } : { by, q: value });
    res.redirect(303, `/?${params.toString()}`);
  });

  router.get('/deliveries/:reportId', auth.authenticate, async (req, res) => {
    const delivery = await deps.store.deliveries.get(String(req.params.reportId), pickTarget(req.query.target, deps.targets));
    if (!delivery) {
      send(res, 404, 'Not found', renderNotFound(String(req.params.reportId)));
      return;
    }
    const audit = await auditTrailOf(deps.store, delivery);
    const flash = typeof req.query.done === 'string' ? req.query.done : undefined;
    const body = renderDeliveryDetail({ delivery, attempts: deriveAttempts(audit), audit, fhirBaseUrl: deps.settings.fhirBaseUrl, flash, maxAttempts });
    const inFlight = delivery.state === 'queued' || delivery.state === 'in_progress';
    send(res, 200, `Report ${delivery.reportId}`, body, inFlight ? IN_FLIGHT_REFRESH_SECONDS : undefined);
  });

  for (const [action, verb] of [['retry', 'requeue'], ['replay', 'replay']] as const) {
    router.post(`/deliveries/:reportId/${action}`, sameOrigin, auth.authenticate, auth.requireOperator, form, async (req, res) => {
      const reportId = String(req.params.reportId);
      const body = (req.body ?? {}) as { target?: unknown; reason?: unknown };
      const target = pickTarget(body.target, deps.targets);
      const reason = readReason(body.reason);
      if (!reason.ok) {
        send(res, 400, 'Not done', html`<p><a href="/">← all deliveries</a></p><p class="error" role="alert">Nothing done: ${reason.message}.</p>`);
        return;
      }
      // requireOperator let only a signed-in operator this far.
      const result = await deps.store.deliveries[verb](reportId, now(), { by: 'audit_page', operator: operatorOf(res)!, ...(reason.reason ? { reason: reason.reason } : {}) }, target);
      if (result === 'requeued') deps.onRequeued?.();
      if (result === 'not_found') send(res, 404, 'Not found', renderNotFound(reportId));
      else res.redirect(303, `/deliveries/${encodeURIComponent(reportId)}?${target === deps.targets[0] ? '' : `target=${encodeURIComponent(target)}&`}done=${result}`);
    });
  }
  return router;
}

function pickFilters(query: Record<string, unknown>): ListFilters {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    state: text(query.state), from: text(query.from), to: text(query.to), critical: text(query.critical), target: text(query.target),
    by: text(query.by), q: text(query.q), h: text(query.h),
  };
}

/** The search a link names; 'invalid' for one this page did not make (an unknown kind, an MRN in clear). */
function searchOf(filters: ListFilters): DeliverySearch | undefined | 'invalid' {
  if (filters.by === undefined) return filters.q || filters.h ? 'invalid' : undefined;
  if (filters.by === 'mrn') return filters.h && /^[0-9a-f]{64}$/.test(filters.h) && !filters.q ? { by: 'mrn', mrnHash: filters.h } : 'invalid';
  const by = SEARCH_KINDS.find((k) => k === filters.by);
  return by && by !== 'mrn' && filters.q && filters.q.length <= SEARCH_VALUE_MAX && !filters.h ? { by, value: filters.q } : 'invalid';
}

/** A configured target, else the first one (the page's links and forms always name one). */
function pickTarget(value: unknown, targets: readonly string[]): string {
  return typeof value === 'string' && targets.includes(value) ? value : targets[0]!;
}

function renderNotFound(reportId: string): SafeHtml {
  return html`<p><a href="/">← all deliveries</a></p><h1>No delivery for report <code>${reportId}</code></h1>`;
}
