import pg from 'pg';

/**
 * The oldest PostgreSQL the migrations and queries run on: triggers declared with EXECUTE
 * FUNCTION (11); FOR UPDATE SKIP LOCKED (9.5), json and ON CONFLICT are older.
 */
export const MIN_POSTGRES_VERSION_NUM = 110000;

export interface DatabaseServerFacts {
  /** As the server says it ("15.19 (Debian 15.19-0+deb12u1)"). */
  version: string;
  supported: boolean;
  /**
   * This host's clock minus the database server's, in ms, judged at the middle of the round trip
   * (so at most half of `roundTripMs` off). Leases are written and judged by each replica's own
   * clock: replicas whose clocks disagree take over each other's live work early or late.
   */
  clockAheadMs: number;
  roundTripMs: number;
}

/** For doctor: one connection of its own, closed after (it is asked once, before serve runs). */
export async function readPgServerFacts(databaseUrl: string, now: () => number = Date.now): Promise<DatabaseServerFacts> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'avara-fhir-sync doctor' });
  await client.connect();
  try {
    // The first query on a connection pays for catalog lookups; time a second one.
    await client.query('SELECT 1');
    const sentAt = now();
    const { rows } = await client.query<{ version: string; num: string; ms: string }>(
      `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms`,
    );
    const answeredAt = now();
    const row = rows[0]!;
    const versionNum = Number(row.num);
    return {
      version: row.version,
      supported: versionNum >= MIN_POSTGRES_VERSION_NUM,
      clockAheadMs: Math.round((sentAt + answeredAt) / 2 - Number(row.ms)),
      roundTripMs: answeredAt - sentAt,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
