import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { AuthFailures } from './auth-failures.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host);
}

/**
 * Bearer ADMIN_TOKEN for /api/* and the audit page. Without a token configured they are open
 * only when the listener is loopback; otherwise 503 rather than an unauthenticated audit trail.
 */
export function requireAdmin(settings: { host: string; adminToken: string | undefined }, failures?: AuthFailures, surface: 'api' | 'metrics' = 'api'): RequestHandler {
  const expected = settings.adminToken ? digest(settings.adminToken) : undefined;
  return (req, res, next) => {
    if (!expected) {
      if (isLoopbackHost(settings.host)) return next();
      res.status(503).json({ error: 'admin_token_not_configured', message: 'set ADMIN_TOKEN to use this route on a non-loopback HOST' });
      return;
    }
    if (failures?.refuseIfBlocked(req, res)) return;
    const offered = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    // Compare digests: constant time, whatever the offered length.
    if (!offered || !timingSafeEqual(digest(offered), expected)) {
      // No header at all is a client that was not configured, not a guess: not held against it.
      if (offered) failures?.failed(req, surface);
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
      return;
    }
    next();
  };
}

export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
