import type { Request, Response } from 'express';
import type { Logger } from 'pino';

export interface AuthFailures {
  /** Seconds to wait when this source has failed too often lately; undefined when it may try. */
  blockedFor(req: Request): number | undefined;
  /** A refused token or sign-in: logged (never the value offered), counted, held against the source. */
  failed(req: Request, surface: 'api' | 'metrics' | 'page'): void;
  /** Answers 429 with Retry-After when the source is blocked; true when it did. */
  refuseIfBlocked(req: Request, res: Response): boolean;
}

export interface AuthFailureSettings {
  /** Refused attempts one source may make in `windowMs` before it waits. */
  maxFailures: number;
  windowMs: number;
  /** Sources remembered at most, so a spray of addresses cannot grow the map without bound. */
  maxSources: number;
}

// A person mistyping a token tries a handful of times; a guesser needs billions. Ten a minute per
// source costs the first nothing and caps the second at 14,400 a day.
export const AUTH_FAILURE_DEFAULTS: AuthFailureSettings = { maxFailures: 10, windowMs: 60_000, maxSources: 10_000 };

/** One per listener: the API, /metrics and the page share it, so a guesser cannot spread over them. */
export function createAuthFailures(deps: { log: Logger; now?: () => number; count?: (surface: string) => void; settings?: AuthFailureSettings }): AuthFailures {
  const { maxFailures, windowMs, maxSources } = deps.settings ?? AUTH_FAILURE_DEFAULTS;
  const now = deps.now ?? Date.now;
  const recent = new Map<string, number[]>();
  // req.ip is the client's own address behind a trusted proxy (TRUST_PROXY), the peer's otherwise.
  const sourceOf = (req: Request) => req.ip ?? 'unknown';
  const failuresOf = (source: string): number[] => {
    const kept = (recent.get(source) ?? []).filter((at) => now() - at < windowMs);
    if (kept.length > 0) recent.set(source, kept);
    else recent.delete(source);
    return kept;
  };
  const blockedFor = (req: Request) => {
    const failures = failuresOf(sourceOf(req));
    if (failures.length < maxFailures) return undefined;
    return Math.max(1, Math.ceil((failures[0]! + windowMs - now()) / 1000));
  };
  return {
    blockedFor,
    failed(req, surface) {
      const source = sourceOf(req);
      const failures = failuresOf(source);
      if (!recent.has(source) && recent.size >= maxSources) recent.delete(recent.keys().next().value!);
      recent.set(source, [...failures, now()]);
      deps.count?.(surface);
      deps.log.warn({ surface, source, failuresInWindow: failures.length + 1 }, 'admin authentication refused');
    },
    refuseIfBlocked(req, res) {
      const wait = blockedFor(req);
      if (wait === undefined) return false;
      res.status(429).set('Retry-After', String(wait)).type('text/plain').send('Too many refused attempts from this address; wait and try again.');
      return true;
    },
  };
}
