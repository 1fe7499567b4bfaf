import { countShippedPgMigrations, type PgStore } from './open-pg-store.ts';

export interface PgHealth {
  /** Every shipped migration applied (false when closed or unreachable). */
  migrated: boolean;
  /**
   * A write was taken and rolled back; 'unreachable' when the server cannot be reached or ended
   * the connection (down, restarting, refusing us); 'unknown' when not migrated, so not probed.
   */
  writable: 'writable' | 'not_writable' | 'closed' | 'unreachable' | 'unknown';
  /** With 'unreachable': why, as a code only (ECONNREFUSED, 57P01, 57P03). */
  error?: string;
}

/**
 * The server could not be asked: the socket's errors (ECONNREFUSED, ECONNRESET), a connection
 * ended without a code, connection exceptions (08), the server shutting down or starting (57P),
 * too many connections (53300), refused authentication (28) or a missing database (3D000).
 */
export function isUnreachable(code: string): boolean {
  return /^E[A-Z]+$/.test(code) || code === 'connection_lost' || code === '53300' || code === '3D000' || /^(08|57P|28)/.test(code);
}

/** For /readyz: reachable, migrated, and accepting writes (a standby or a read-only database is not). */
export async function probePgHealth(store: PgStore): Promise<PgHealth> {
  if (store.pool.ended) return { migrated: false, writable: 'closed' };
  let applied: number;
  try {
    const result = await store.pool.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
    applied = Number(result.rows[0]?.n);
  } catch (error) {
    const code = errorCode(error);
    // Otherwise the migrations table is not there yet (42P01, 3F000): not migrated.
    if (isUnreachable(code)) return { migrated: false, writable: 'unreachable', error: code };
    return { migrated: false, writable: 'unknown' };
  }
  if (applied < countShippedPgMigrations()) return { migrated: false, writable: 'unknown' };
  try {
    const client = await store.pool.connect();
    try {
      await client.query('BEGIN');
      // A row lock held by another writer is still writable: wait briefly, do not judge.
      await client.query(`SET LOCAL lock_timeout = '200ms'`);
      await client.query(`INSERT INTO settings (key, value, updated_at) VALUES ('probe.writable', '', 0) ON CONFLICT DO NOTHING`);
      return { migrated: true, writable: 'writable' };
    } finally {
      // A connection that cannot even roll back is broken: destroyed, not given back to the pool.
      await client.query('ROLLBACK').then(() => client.release(), (error: Error) => client.release(error));
    }
  } catch (error) {
    const code = errorCode(error);
    // 55P03 lock timeout: another writer holds the row. 25006 read-only transaction (a standby,
    // default_transaction_read_only) and anything else the server refused: not writable.
    if (code === '55P03') return { migrated: true, writable: 'writable' };
    if (isUnreachable(code)) return { migrated: true, writable: 'unreachable', error: code };
    return { migrated: true, writable: 'not_writable' };
  }
}

/**
 * A short code for a failure: the server's SQLSTATE (57P01 admin shutdown) or the system's
 * (ECONNREFUSED); never its message, which may name a host, a user or a value.
 */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,32}$/.test(code) ? code : 'connection_lost';
}
