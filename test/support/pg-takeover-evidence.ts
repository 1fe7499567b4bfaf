import pg from 'pg';

/** A delivery some replica held a lease on, and until when (unix ms, the holder's clock). */
export interface LeasedDelivery {
  reportId: string;
  leaseExpiresAt: number;
}

/** A lease that ran out and the job taken up again: from the audit rows, unix ms. */
export interface Takeover extends LeasedDelivery {
  /** The `lease_expired` row: a replica found the lease over and put the job back. */
  expiredAt: number;
  /** The next `attempt_started`: a replica claimed it again. */
  claimedAgainAt: number;
}

/** Deliveries in progress right now, with their lease's end. */
export async function leasedDeliveries(databaseUrl: string): Promise<LeasedDelivery[]> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ report_id: string; lease_expires_at: string }>(
      `select report_id, lease_expires_at from deliveries where state = 'in_progress' and lease_token is not null`,
    );
    return rows.map((row) => ({ reportId: row.report_id, leaseExpiresAt: Number(row.lease_expires_at) }));
  });
}

/** For each of `leased` whose lease expired at or after `since`: when it expired and when it was claimed again. */
export async function takeoversOf(databaseUrl: string, leased: LeasedDelivery[], since: number): Promise<Takeover[]> {
  return withClient(databaseUrl, async (client) => {
    const takeovers: Takeover[] = [];
    for (const delivery of leased) {
      const { rows } = await client.query<{ seq: string; event: string; at: string }>(
        `select seq, event, at from audit_events where report_id = $1 and event in ('lease_expired', 'attempt_started') and at >= $2 order by seq`,
        [delivery.reportId, since],
      );
      const expired = rows.findIndex((row) => row.event === 'lease_expired');
      const claimed = rows.slice(expired + 1).find((row) => row.event === 'attempt_started');
      if (expired >= 0 && claimed) takeovers.push({ ...delivery, expiredAt: Number(rows[expired]!.at), claimedAgainAt: Number(claimed.at) });
    }
    return takeovers;
  });
}

/** How many audit rows of `event` the database holds. */
export async function auditEventCount(databaseUrl: string, event: string): Promise<number> {
  return withClient(databaseUrl, async (client) =>
    Number((await client.query<{ n: string }>(`select count(*) as n from audit_events where event = $1`, [event])).rows[0]!.n));
}

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
