import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { checkWebhookHeaders } from '../avara/verify-webhook.ts';

export interface WebhookGuardSettings {
  /** Bytes of POST /webhooks/avara bodies being read at once (as declared); beyond, 503 + Retry-After at once. */
  maxBytesInFlight: number;
  /** What a body may be at most (design.md: 1 MiB), reserved for one that declares no length. */
  maxBodyBytes: number;
  /** How long one body may take to arrive once its headers passed. */
  bodyTimeoutMs: number;
}

// The budget is in bytes, not requests: webhook bodies are a few KB (a report.delivered is ~400
// bytes), so thousands of real ones fit at once (a burst from Avara, a backlog replayed), while
// bodies that claim up to design.md's 1 MiB each bound unauthenticated memory to 32 MiB. A body
// gives its share back once read: storing and answering it are not bounded here.
// A few KB arrive in one round trip; 10 s is generous for a congested path, and a share held
// longer lets a few slow senders shut Avara out.
export const WEBHOOK_GUARD_DEFAULTS: WebhookGuardSettings = { maxBytesInFlight: 32 * 1024 * 1024, maxBodyBytes: 1024 * 1024, bodyTimeoutMs: 10_000 };

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
  const { maxBytesInFlight, maxBodyBytes, bodyTimeoutMs } = deps.settings ?? WEBHOOK_GUARD_DEFAULTS;
  let inFlight = 0;
  return (req, res, next) => {
    const refused = checkWebhookHeaders(req.headers, Math.floor(deps.now() / 1000));
    if (refused) {
      deps.count?.('unknown', refused.code);
      deps.log.warn({ code: refused.code }, 'webhook refused before its body');
      closeWith(res, refused.status, { error: refused.code });
      return;
    }
    const declared = Number(req.headers['content-length']);
    const share = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, maxBodyBytes) : maxBodyBytes;
    if (inFlight + share > maxBytesInFlight) {
      deps.count?.('unknown', 'intake_busy');
      deps.log.warn({ inFlight }, 'webhook refused: too many bodies being received');
      closeWith(res.set('Retry-After', String(BUSY_RETRY_AFTER_SECONDS)), 503, { error: 'intake_busy' });
      return;
    }
    inFlight += share;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      inFlight -= share;
    };
    const timer = setTimeout(() => {
      if (req.complete) return;
      deps.log.warn('webhook refused: body not received in time');
      closeWith(res, 408, { error: 'body_timeout' });
    }, bodyTimeoutMs);
    req.once('end', release);
    res.once('close', release);
    next();
  };
}

function closeWith(res: Response, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.status(status).set('Connection', 'close').json(body);
}
