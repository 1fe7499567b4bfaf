import type { Request, RequestHandler } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF guard: the browser's Origin (or, failing that, Referer) must name this very host. A
 * request naming neither is refused: every browser we serve sends Origin on a form POST, and a
 * script without a browser has no cookie to abuse.
 */
export function requireSameOrigin(): RequestHandler {
  return (req, res, next) => {
    if (isSameOrigin(req)) return next();
    res.status(403).type('text/plain').send('Refused: this form must be sent from this site (Origin or Referer does not match the Host).');
  };
}

/**
 * The same guard on every state-changing request of the page (sign-in, sign-out, the action
 * forms): a cross-site form could otherwise ride on the session cookie. /api is left out: it
 * takes nothing but a bearer token, which a cross-site form cannot send (a cross-site script
 * setting it needs a CORS preflight this service never grants), and without tokens it refuses
 * every state change. Signed webhooks are not browser traffic and are checked by their signature.
 */
export function requireSameOriginUnlessBearer(): RequestHandler {
  const guard = requireSameOrigin();
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || req.path.startsWith('/webhooks/') || req.path.startsWith('/api/') || /^Bearer /.test(req.get('authorization') ?? '')) return next();
    guard(req, res, next);
  };
}

function isSameOrigin(req: Request): boolean {
  const host = req.get('host');
  if (host === undefined) return false;
  // Behind a trusted TLS proxy the scheme is known too: an http:// page of the same host is
  // another origin. Without one, this listener cannot tell which scheme the browser used.
  const schemeKnown = Boolean(req.app.get('trust proxy'));
  const claimed = originOf(req.get('origin')) ?? originOf(req.get('referer'));
  if (!claimed) return false;
  return schemeKnown ? claimed.origin === `${req.protocol}://${host}` : claimed.host === host;
}

function originOf(value: string | undefined): { origin: string; host: string } | undefined {
  if (!value || value === 'null') return undefined;
  try {
    const url = new URL(value);
    return { origin: url.origin, host: url.host };
  } catch {
    return undefined;
  }
}
