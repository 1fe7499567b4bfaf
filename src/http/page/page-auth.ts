import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { digest, isLoopbackHost } from '../require-admin.ts';
import { renderLogin } from './render-login.ts';

const COOKIE = 'afs_session';
const SESSION_PURPOSE = 'avara-fhir-sync audit page session v1';

export interface PageAuth {
  /** Lets a request in by bearer header, session cookie or a one-time `?token=` (then redirects it away). */
  authenticate: RequestHandler;
  /** POST /login with a `token` form field. */
  login: RequestHandler;
  logout: RequestHandler;
}

/**
 * Browsers cannot send a bearer header from a link, so the page takes ADMIN_TOKEN once (login
 * form or `?token=`) and keeps an HttpOnly, SameSite=Strict cookie holding an HMAC of it, never
 * the token itself: the cookie cannot be turned back into API access elsewhere, and changing
 * ADMIN_TOKEN ends every session.
 */
export function createPageAuth(settings: { host: string; adminToken: string | undefined }): PageAuth {
  const token = settings.adminToken;
  const session = token ? createHmac('sha256', token).update(SESSION_PURPOSE).digest('base64url') : undefined;
  const tokenOk = (offered: unknown) => typeof offered === 'string' && token !== undefined && timingSafeEqual(digest(offered), digest(token));
  const sessionOk = (req: Request) => session !== undefined && timingSafeEqual(digest(readCookie(req, COOKIE) ?? ''), digest(session));

  const authenticate: RequestHandler = (req, res, next) => {
    if (!token) {
      if (isLoopbackHost(settings.host)) return next();
      res.status(503).type('text/plain').send('The audit page needs ADMIN_TOKEN on a non-loopback HOST.');
      return;
    }
    if (tokenOk(/^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1]) || sessionOk(req)) return next();
    const queryToken = req.query.token;
    if (queryToken !== undefined && tokenOk(queryToken)) {
      // Trade the token for the cookie at once, so it leaves the address bar and the history.
      setSession(req, res, session!);
      res.redirect(303, withoutToken(req));
      return;
    }
    res.status(401).type('html').send(renderLogin({ refused: queryToken !== undefined, next: withoutToken(req) }).value);
  };

  const login: RequestHandler = (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = typeof body.next === 'string' && /^\/(?!\/)/.test(body.next) ? body.next : '/';
    if (!tokenOk(body.token)) {
      res.status(401).type('html').send(renderLogin({ refused: true, next }).value);
      return;
    }
    setSession(req, res, session!);
    res.redirect(303, next);
  };

  const logout: RequestHandler = (_req, res) => {
    res.set('Set-Cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`).redirect(303, '/');
  };
  return { authenticate, login, logout };
}

function setSession(req: Request, res: Response, value: string): void {
  // Secure only when this request came over TLS: on plain loopback HTTP the cookie must still work.
  const secure = req.secure ? '; Secure' : '';
  res.set('Set-Cookie', `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200${secure}`);
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function withoutToken(req: Request): string {
  const url = new URL(req.originalUrl, 'http://page.invalid');
  url.searchParams.delete('token');
  return url.pathname + url.search;
}
