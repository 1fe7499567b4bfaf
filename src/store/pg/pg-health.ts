import { isPgMigrated, type PgStore } from './open-pg-store.ts';

/**
 * The oldest PostgreSQL the migrations and queries run on: triggers declared with EXECUTE
 * FUNCTION (11); FOR UPDATE SKIP LOCKED (9.5), json and ON CONFLICT are older.
 */
export const MIN_POSTGRES_VERSION_NUM = 110000;

export interface PgHealth {
  /** Every shipped migration applied (false when closed or unreachable). */
  migrated: boolean;
  /** A write was taken and rolled back; 'unknown' when not migrated (or unreachable), so not probed. */
  writable: 'writable' | 'not_writable' | 'closed' | 'unknown';
}

/** For /readyz: migrated, and accepting writes (a standby or a read-only database is not). */
export async function probePgHealth(store: PgStore): Promise<PgHealth> {
  if (store.pool.ended) return { migrated: false, writable: 'closed' };
  if (!(await isPgMigrated(store))) return { migrated: false, writable: 'unknown' };
  try {
    const client = await store.pool.connect();
    try {
      await client.query('BEGIN');
      // A row lock held by another writer is still writable: wait briefly, do not judge.
      await client.query(`SET LOCAL lock_timeout = '200ms'`);
      await client.query(`INSERT INTO settings (key, value, updated_at) VALUES ('probe.writable', '', 0) ON CONFLICT DO NOTHING`);
      return { migrated: true, writable: 'writable' };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 25006 read-only transaction (standby, default_transaction_read_only); 55P03 lock timeout.
    if (code === '55P03') return { migrated: true, writable: 'writable' };
    return { migrated: true, writable: code === '25006' ? 'not_writable' : 'unknown' };
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

export interface PgServer {
  /** As the server says it ("15.20 (Debian ...)"). */
  version: string;
  versionNum: number;
  supported: boolean;
}

/** For doctor: which PostgreSQL this is, and whether it is new enough. */
export async function readPgServer(store: PgStore): Promise<PgServer> {
  const { rows } = await store.pool.query<{ version: string; num: string }>(`SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num`);
  const versionNum = Number(rows[0]!.num);
  return { version: rows[0]!.version, versionNum, supported: versionNum >= MIN_POSTGRES_VERSION_NUM };
}
