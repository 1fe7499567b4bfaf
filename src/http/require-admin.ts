import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { AdminOperator } from '../config/admin-operators.ts';
import type { AuthFailures } from './auth-failures.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AdminSettings {
  host: string;
  /** ADMIN_TOKEN (as `admin`) and ADMIN_TOKENS: names and token digests. */
  adminOperators: readonly AdminOperator[];
}

/** Why a state change is refused on a loopback HOST without tokens: the API's and the page's answer. */
export const OPERATOR_TOKEN_REQUIRED =
  'Retry, replay and every other action are recorded with the operator who took them, so they need a token even on a loopback HOST: set ADMIN_TOKENS (name:token pairs, one per operator) or ADMIN_TOKEN. Reading stays open on loopback.';

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host);
}

export function isReadMethod(method: string): boolean {
  return READ_METHODS.has(method);
}

/**
 * The operator a token belongs to, or undefined. Every configured digest is compared, match or
 * not, so the time taken says nothing about which operator (or whether any) matched.
 */
export function createOperatorLookup(operators: readonly AdminOperator[]): (offered: unknown) => string | undefined {
  const known = operators.map(({ name, tokenSha256 }) => ({ name, digest: Buffer.from(tokenSha256, 'hex') }));
  return (offered) => {
    if (typeof offered !== 'string') return undefined;
    const offeredDigest = digest(offered);
    let found: string | undefined;
    for (const { name, digest: expected } of known) {
      if (timingSafeEqual(offeredDigest, expected) && found === undefined) found = name;
    }
    return found;
  };
}

/** Who the request was authenticated as (set by requireAdmin or the page's sign-in); undefined on open loopback reads. */
export function operatorOf(res: Response): string | undefined {
  const operator: unknown = res.locals.operator;
  return typeof operator === 'string' ? operator : undefined;
}

/**
 * Bearer token (ADMIN_TOKENS or ADMIN_TOKEN) for /api/* and /metrics; the operator it names is
 * kept for the route (operatorOf). Without any token configured, a loopback listener serves
 * reads and refuses state changes (403), and any other listener answers 503 rather than an
 * unauthenticated audit trail.
 */
export function requireAdmin(settings: AdminSettings, failures?: AuthFailures, surface: 'api' | 'metrics' = 'api'): RequestHandler {
  const identify = createOperatorLookup(settings.adminOperators);
  const open = settings.adminOperators.length === 0;
  return (req, res, next) => {
    if (open) {
      if (!isLoopbackHost(settings.host)) {
        res.status(503).json({ error: 'admin_token_not_configured', message: 'set ADMIN_TOKENS (name:token pairs) or ADMIN_TOKEN to use this route on a non-loopback HOST' });
        return;
      }
      if (isReadMethod(req.method)) return next();
      res.status(403).json({ error: 'operator_token_required', message: OPERATOR_TOKEN_REQUIRED });
      return;
    }
    if (failures?.refuseIfBlocked(req, res)) return;
    const offered = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    const operator = identify(offered);
    if (operator === undefined) {
      // No header at all is a client that was not configured, not a guess: not held against it.
      if (offered) failures?.failed(req, surface);
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
      return;
    }
    res.locals.operator = operator;
    next();
  };
}

export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
