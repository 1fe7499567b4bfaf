import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { checkWebhookHeaders } from '../avara/verify-webhook.ts';

export interface WebhookGuardSettings {
  /** Bodies of POST /webhooks/avara being read at once; beyond, 503 + Retry-After at once. */
  maxBodiesInFlight: number;
  /** How long one body may take to arrive once its headers passed. */
  bodyTimeoutMs: number;
}

// Webhook bodies are a few KB (a report.delivered is ~400 bytes) but design.md allows up to
// 1 MiB, so a slot is worth up to 1 MiB of buffer: 32 slots bound unauthenticated memory to
// 32 MiB, while Avara, which sends a handful at once, never meets the cap in normal operation.
// A few KB arrive in one round trip; 10 s is generous for a congested path, and a slot held
// longer lets a few slow senders shut Avara out.
export const WEBHOOK_GUARD_DEFAULTS: WebhookGuardSettings = { maxBodiesInFlight: 32, bodyTimeoutMs: 10_000 };

const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * Runs before the body parser of POST /webhooks/avara. Nothing about the sender is known until
 * the signature is checked over the whole body, so everything before that is bounded: headers
 * that can never verify are refused without reading a byte, and bodies being read are few and
 * short-lived. Every refusal closes the connection, so an unread body is not drained either.
 */
export function guardWebhookIntake(deps: {
  log: Logger;
  now: () => number;
  count?: (type: string, outcome: string) => void;
  settings?: WebhookGuardSettings;
}): RequestHandler {
  const { maxBodiesInFlight, bodyTimeoutMs } = deps.settings ?? WEBHOOK_GUARD_DEFAULTS;
  let inFlight = 0;
  return (req, res, next) => {
    const refused = checkWebhookHeaders(req.headers, Math.floor(deps.now() / 1000));
    if (refused) {
      deps.count?.('unknown', refused.code);
      deps.log.warn({ code: refused.code }, 'webhook refused before its body');
      closeWith(res, refused.status, { error: refused.code });
      return;
    }
    if (inFlight >= maxBodiesInFlight) {
      deps.count?.('unknown', 'intake_busy');
      deps.log.warn({ inFlight }, 'webhook refused: too many bodies being received');
      closeWith(res.set('Retry-After', String(BUSY_RETRY_AFTER_SECONDS)), 503, { error: 'intake_busy' });
      return;
    }
    inFlight++;
    const timer = setTimeout(() => {
      if (req.complete) return;
      deps.log.warn('webhook refused: body not received in time');
      closeWith(res, 408, { error: 'body_timeout' });
    }, bodyTimeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      inFlight--;
    });
    next();
  };
}

function closeWith(res: Response, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.status(status).set('Connection', 'close').json(body);
}
