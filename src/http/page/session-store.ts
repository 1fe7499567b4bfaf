import { randomBytes } from 'node:crypto';

export interface SessionStore {
  /** A new random session id, valid for `ttlMs` from `now`. */
  create(now: number): string;
  isValid(id: string | undefined, now: number): boolean;
  /** Sign-out: the id is refused from now on. */
  end(id: string | undefined): void;
}

/**
 * Audit page sessions, in memory. A session holds nothing but its expiry, so losing them on a
 * restart only asks operators to enter the token again, and no table or migration (for SQLite
 * and PostgreSQL both) carries login state. Several replicas need sticky sessions at the proxy
 * (or the bearer header); README says so. `max` bounds memory against sign-in floods: the
 * oldest session goes first.
 */
export function createSessionStore(options: { ttlMs: number; max: number }): SessionStore {
  const expiries = new Map<string, number>();
  return {
    create(now) {
      for (const [id, expiresAt] of expiries) if (expiresAt <= now || expiries.size >= options.max) expiries.delete(id);
      // 32 random bytes: not guessable, and unrelated to ADMIN_TOKEN.
      const id = randomBytes(32).toString('base64url');
      expiries.set(id, now + options.ttlMs);
      return id;
    },
    isValid(id, now) {
      const expiresAt = id === undefined ? undefined : expiries.get(id);
      if (expiresAt === undefined) return false;
      if (expiresAt > now) return true;
      expiries.delete(id!);
      return false;
    },
    end(id) {
      if (id !== undefined) expiries.delete(id);
    },
  };
}
