import type { RequestHandler } from 'express';

/**
 * CSRF guard for the page's forms: the browser's Origin (or, failing that, Referer) must name
 * this very host. A request naming neither is refused: every browser we serve sends Origin on
 * a form POST, and a script without a browser has no cookie to abuse.
 */
export function requireSameOrigin(): RequestHandler {
  return (req, res, next) => {
    const host = req.get('host');
    const claimed = hostOf(req.get('origin')) ?? hostOf(req.get('referer'));
    if (host && claimed === host) return next();
    res.status(403).type('text/plain').send('Refused: this form must be sent from this site (Origin or Referer does not match the Host).');
  };
}

function hostOf(value: string | undefined): string | undefined {
  if (!value || value === 'null') return undefined;
  try {
    return new URL(value).host;
  } catch {
    return undefined;
  }
}
