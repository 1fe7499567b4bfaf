import { execFile } from 'node:child_process';
import { BENCH_SERVER_URL } from './pg-bench-database.ts';
import pg from 'pg';

export interface BackendPinning {
  /** Backends moved so far. */
  pinned(): number;
  stop(): Promise<void>;
}

// The PostgreSQL server is shared with other work on this machine: its postmaster, WAL writer and
// checkpointer are left where they are. Only the backends serving the bench's own database (one
// process per connection, gone when the connection closes) are moved, to the core the other
// servers the product talks to (the EHR stand-ins) have, as a database server has cores of its
// own. Pools open connections at any time, so new backends are looked for every half second.
const LOOK_EVERY_MS = 500;

/** Pins every backend of `databaseName` to BENCH_EHR_CORE while running; nothing when the run is unpinned. */
export async function pinDatabaseBackends(databaseName: string): Promise<BackendPinning> {
  const core = process.env.BENCH_EHR_CORE;
  if (core === undefined) return { pinned: () => 0, stop: async () => undefined };
  const client = new pg.Client({ connectionString: BENCH_SERVER_URL, application_name: 'afs-bench-pinner' });
  await client.connect();
  const seen = new Set<number>();
  let pinned = 0;
  let looking: Promise<void> = Promise.resolve();
  const look = async () => {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [databaseName]);
    const fresh = rows.map((row) => row.pid).filter((pid) => !seen.has(pid));
    for (const pid of fresh) seen.add(pid);
    // Asynchronously: this process is also the load generator, and must not block.
    const moved = await Promise.all(fresh.map((pid) => taskset(pid, core)));
    pinned += moved.filter(Boolean).length;
  };
  await look();
  const timer = setInterval(() => {
    looking = looking.then(look).catch(() => undefined);
  }, LOOK_EVERY_MS);
  return {
    pinned: () => pinned,
    async stop() {
      clearInterval(timer);
      await looking;
      await client.end();
    },
  };
}

/** false when the backend ended before it could be moved (its connection closed). */
function taskset(pid: number, core: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('taskset', ['--all-tasks', '--pid', '--cpu-list', core, String(pid)], (error) => resolve(!error));
  });
}

/** Runs `measure` with the database's backends pinned (see above). */
export async function whileBackendsPinned<T>(databaseName: string, measure: () => Promise<T>): Promise<T> {
  const pinning = await pinDatabaseBackends(databaseName);
  try {
    return await measure();
  } finally {
    await pinning.stop();
  }
}
