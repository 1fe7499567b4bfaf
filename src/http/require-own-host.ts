import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { isLoopbackHost } from './require-admin.ts';

/**
 * DNS rebinding guard. A page on attacker.example whose name is made to resolve to 127.0.0.1
 * reaches a loopback listener with its own name in `Host`; only loopback names are this
 * listener's, so anything else answers 421 before any route. On a non-loopback HOST the names a
 * proxy or DNS gives the service are not known here: ADMIN_TOKEN is required there instead
 * (require-admin.ts) and the rebound page has neither the token nor the session cookie.
 *
 * Behind a reverse proxy on the same host (TRUST_PROXY set) the proxy forwards the public name:
 * the check is then the proxy's. Routes a browser page gains nothing from (signed webhooks, the
 * public JWKS, health) are never refused for their Host, so a proxy setup cannot lose reports.
 */
export function requireOwnHost(settings: { host: string; trustProxy?: unknown }): RequestHandler {
  const enforced = isLoopbackHost(settings.host) && !settings.trustProxy;
  return (req, res, next) => {
    if (!enforced || OPEN_TO_ANY_HOST.test(req.path) || isLoopbackName(hostnameOf(req.get('host') ?? ''))) return next();
    res.status(421).set('Connection', 'close').type('text/plain').send('Misdirected request: this service answers only to its own host names.');
  };
}

const OPEN_TO_ANY_HOST = /^\/(?:webhooks\/|\.well-known\/|healthz$|readyz$)/;

function hostnameOf(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!.toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}
