import { forkRpcChild } from '../child-rpc.ts';
import { withBenchDatabase } from '../pg-bench-database.ts';
import { whileBackendsPinned } from '../pin-pg-backends.ts';
import { startServe } from '../serve-process.ts';
import { closedLoopRate, startSilentServer, WEBHOOK_KEY } from './intake-stage.ts';

// The intake stage's two measurements with PostgreSQL behind them: the same load generator, the
// same webhooks, a fresh database for each run on the one server.

/** The bare handler (bare-pg-intake-child.ts): verify, one INSERT ... ON CONFLICT DO NOTHING, answer. */
export function barePgRate(connections: number, seconds: number): Promise<number> {
  return withBenchDatabase(async (database) => {
    const bare = await forkRpcChild<{ url: string }>('bare-pg-intake-child.ts', { BENCH_DATABASE_URL: database.url, BENCH_WEBHOOK_KEY: WEBHOOK_KEY });
    try {
      return await whileBackendsPinned(database.name, () => closedLoopRate(`${bare.info.url}/webhooks/avara`, connections, seconds));
    } finally {
      await bare.stop();
    }
  });
}

/**
 * serve on PostgreSQL with its worker held up, as productRate on SQLite: Avara never answers, so
 * what is measured is POST /webhooks/avara and the commit behind it (inbox, delivery, two audit
 * rows, through the PostgreSQL group commit).
 */
export function productPgRate(connections: number, seconds: number): Promise<number> {
  return withBenchDatabase(async (database) => {
    const silent = await startSilentServer();
    try {
      const serve = await startServe({
        AVARA_BASE_URL: silent.url, AVARA_API_KEY: `sk_live_${'0'.repeat(32)}`, AVARA_WEBHOOK_KEY: WEBHOOK_KEY,
        SHUTDOWN_GRACE_SECONDS: '0', FHIR_BASE_URL: 'http://127.0.0.1:9/fhir/R4', DATABASE_URL: database.url,
      });
      try {
        return await whileBackendsPinned(database.name, () => closedLoopRate(`${serve.url}/webhooks/avara`, connections, seconds));
      } finally {
        await serve.stop();
      }
    } finally {
      silent.stop();
    }
  });
}
