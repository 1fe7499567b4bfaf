import { randomBytes } from 'node:crypto';

export interface SessionStore {
  /** A new random session id for `operator`, valid for `ttlMs` from `now`. */
  create(now: number, operator: string): string;
  /** The operator signed in with this session id; undefined when it is unknown or expired. */
  operatorOf(id: string | undefined, now: number): string | undefined;
  /** Sign-out: the id is refused from now on. */
  end(id: string | undefined): void;
}

/**
 * Audit page sessions, in memory. A session holds its operator's name and its expiry, so losing
 * them on a restart only asks operators to enter their token again, and no table or migration
 * (for SQLite and PostgreSQL both) carries login state. Several replicas need sticky sessions at
 * the proxy (or the bearer header); README says so. `max` bounds memory against sign-in floods:
 * the oldest session goes first.
 */
export function createSessionStore(options: { ttlMs: number; max: number }): SessionStore {
  const sessions = new Map<string, { expiresAt: number; operator: string }>();
  return {
    create(now, operator) {
      for (const [id, { expiresAt }] of sessions) if (expiresAt <= now || sessions.size >= options.max) sessions.delete(id);
      // 32 random bytes: not guessable, and unrelated to any token.
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, { expiresAt: now + options.ttlMs, operator });
      return id;
    },
    operatorOf(id, now) {
      const session = id === undefined ? undefined : sessions.get(id);
      if (session === undefined) return undefined;
      if (session.expiresAt > now) return session.operator;
      sessions.delete(id!);
      return undefined;
    },
    end(id) {
      if (id !== undefined) sessions.delete(id);
    },
  };
}
