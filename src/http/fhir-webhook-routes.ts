import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router } from 'express';

export interface FhirWebhookDeps {
  /** FHIR_WEBHOOK_SECRET; without it the endpoint answers 503 (never open by accident). */
  secret: string | undefined;
  /** Starts an order sweep now; undefined when ORDERS_ENABLED=false. */
  triggerSweep?: () => void;
}

/**
 * `POST /webhooks/fhir`: a FHIR R4 rest-hook Subscription notification. Its content is not
 * trusted or needed: any notification means "something changed", and the sweep reads what.
 */
export function fhirWebhookRouter(deps: FhirWebhookDeps): Router {
  const router = Router();
  router.post('/webhooks/fhir', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
    if (!deps.secret) return void res.status(503).json({ error: 'not_configured', message: 'set FHIR_WEBHOOK_SECRET' });
    if (!presentedSecretMatches(req.headers, deps.secret)) return void res.status(401).json({ error: 'unauthorized' });
    if (!deps.triggerSweep) return void res.status(503).json({ error: 'orders_disabled', message: 'set ORDERS_ENABLED=true' });
    deps.triggerSweep();
    res.status(202).json({ accepted: true });
  });
  return router;
}

function presentedSecretMatches(headers: Record<string, string | string[] | undefined>, secret: string): boolean {
  const header = headers['x-webhook-secret'];
  const bearer = /^Bearer (.+)$/.exec(String(headers['authorization'] ?? ''))?.[1];
  const presented = typeof header === 'string' ? header : bearer;
  if (presented === undefined) return false;
  // Equal-length digests, so the comparison takes the same time whatever was presented.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(secret));
}
