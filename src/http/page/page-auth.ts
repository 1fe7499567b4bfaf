import type { Request, RequestHandler, Response } from 'express';
import { createOperatorLookup, isLoopbackHost, OPERATOR_TOKEN_REQUIRED, operatorOf, type AdminSettings } from '../require-admin.ts';
import type { AuthFailures } from '../auth-failures.ts';
import { html } from './html.ts';
import { renderLayout } from './render-layout.ts';
import { renderLogin } from './render-login.ts';
import { createSessionStore } from './session-store.ts';

const COOKIE = 'afs_session';
// A working day: an operator signs in once per shift; a stolen cookie is dead by the next one.
const SESSION_TTL_SECONDS = 12 * 3600;
const MAX_SESSIONS = 1000;

export interface PageAuth {
  /**
   * Lets a request in by bearer header, session cookie or a one-time `?token=` (then redirects it
   * away), and keeps who it is for the route (`operatorOf(res)`).
   */
  authenticate: RequestHandler;
  /**
   * After authenticate, on routes that change state: only a named operator may act. Without any
   * token on a loopback HOST the page is open for reading, and this refuses the action (403).
   */
  requireOperator: RequestHandler;
  /** POST /login with a `token` form field. */
  login: RequestHandler;
  logout: RequestHandler;
}

/**
 * Browsers cannot send a bearer header from a link, so the page takes an operator's token once
 * (login form or `?token=`) and keeps an HttpOnly, SameSite=Strict cookie holding a random
 * session id, never the token: the cookie cannot be turned back into API access elsewhere, it
 * expires on the server, and sign-out ends it there. The session remembers the operator, so a
 * Retry from the page is recorded with their name.
 */
export function createPageAuth(settings: AdminSettings, now: () => number = Date.now, failures?: AuthFailures): PageAuth {
  const open = settings.adminOperators.length === 0;
  const identify = createOperatorLookup(settings.adminOperators);
  const sessions = createSessionStore({ ttlMs: SESSION_TTL_SECONDS * 1000, max: MAX_SESSIONS });
  // Secure behind a TLS proxy (TRUST_PROXY and X-Forwarded-Proto), and always off loopback, where
  // plain HTTP must not carry the cookie; plain loopback HTTP (the demo) keeps it usable.
  const setSession = (req: Request, res: Response, operator: string) => startSession(res, sessions.create(now(), operator), req.secure || !isLoopbackHost(settings.host));
  const signedIn = (res: Response, operator: string) => {
    res.locals.operator = operator;
  };

  const authenticate: RequestHandler = (req, res, next) => {
    if (open) {
      if (!isLoopbackHost(settings.host)) {
        res.status(503).type('text/plain').send('The audit page needs ADMIN_TOKENS or ADMIN_TOKEN on a non-loopback HOST.');
        return;
      }
      return next();
    }
    const fromSession = sessions.operatorOf(readCookie(req, COOKIE), now());
    if (fromSession !== undefined) {
      signedIn(res, fromSession);
      return next();
    }
    if (failures?.refuseIfBlocked(req, res)) return;
    const bearer = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    const fromBearer = identify(bearer);
    if (fromBearer !== undefined) {
      signedIn(res, fromBearer);
      return next();
    }
    const queryToken = req.query.token;
    const fromQuery = identify(queryToken);
    if ((bearer !== undefined || queryToken !== undefined) && fromQuery === undefined) failures?.failed(req, 'page');
    if (fromQuery !== undefined) {
      // Trade the token for the cookie at once, so it leaves the address bar and the history.
      setSession(req, res, fromQuery);
      res.redirect(303, withoutToken(req));
      return;
    }
    res.status(401).type('html').send(renderLogin({ refused: queryToken !== undefined, next: withoutToken(req) }).value);
  };

  const requireOperator: RequestHandler = (_req, res, next) => {
    if (operatorOf(res) !== undefined) return next();
    res.status(403).type('html').send(renderLayout('Not done', html`<p><a href="/">← all deliveries</a></p><h1>This action needs a named operator</h1><p>${OPERATOR_TOKEN_REQUIRED}</p>`).value);
  };

  const login: RequestHandler = (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = localPath(req, body.next);
    if (failures?.refuseIfBlocked(req, res)) return;
    const operator = identify(body.token);
    if (operator === undefined) {
      failures?.failed(req, 'page');
      res.status(401).type('html').send(renderLogin({ refused: true, next }).value);
      return;
    }
    setSession(req, res, operator);
    res.redirect(303, next);
  };

  const logout: RequestHandler = (req, res) => {
    sessions.end(readCookie(req, COOKIE));
    res.set('Set-Cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`).redirect(303, '/');
  };
  return { authenticate, requireOperator, login, logout };
}

function startSession(res: Response, id: string, secure: boolean): void {
  res.set('Set-Cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_SECONDS}${secure ? '; Secure' : ''}`);
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/**
 * Browsers read `/\evil.example/` as `//evil.example/`: a prefix test cannot tell. Resolve `next`
 * the way a browser would, against this page's own origin, and keep only the path of a same-origin
 * result.
 */
function localPath(req: Request, next: unknown): string {
  if (typeof next !== 'string') return '/';
  const own = `${req.protocol}://${req.get('host') ?? 'page.invalid'}`;
  try {
    const url = new URL(next, own);
    return url.origin === new URL(own).origin ? url.pathname + url.search : '/';
  } catch {
    return '/';
  }
}

function withoutToken(req: Request): string {
  const url = new URL(req.originalUrl, 'http://page.invalid');
  url.searchParams.delete('token');
  return url.pathname + url.search;
}
