/**
 * Test-only entry: `serve` as the CLI starts it (startApp, the real configuration, no hooks),
 * with two delivery settings the environment cannot set, to make a replica's behaviour testable:
 *
 *   REPLICA_WORKER_CONCURRENCY=0   its delivery loops never claim (intake, poller, API still run)
 *   REPLICA_ORDER_CONCURRENCY=0    its order worker never claims (the order sweep still runs)
 *   REPLICA_IDLE_POLL_SECONDS=n    an idle loop (deliveries and orders) looks by itself only every n seconds
 *
 * SIGTERM stops it as serve does: stop(), then exit 0.
 */
import { startApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/create-logger.ts';

const config = loadConfig(process.env);
const idleSeconds = process.env.REPLICA_IDLE_POLL_SECONDS;
function tuned<T extends object>(settings: T, concurrency: string | undefined): T {
  return {
    ...settings,
    ...(concurrency !== undefined ? { concurrency: Number(concurrency) } : {}),
    ...(idleSeconds !== undefined ? { idlePollMs: Number(idleSeconds) * 1000 } : {}),
  };
}
const log = createLogger(config.logLevel);
const app = await startApp({
  ...config,
  delivery: tuned(config.delivery, process.env.REPLICA_WORKER_CONCURRENCY),
  orders: tuned(config.orders, process.env.REPLICA_ORDER_CONCURRENCY),
} as Config, log);
process.once('SIGTERM', () => {
  void app.stop().then(() => process.exit(0), (error: unknown) => {
    log.error({ err: (error as Error).message }, 'stop failed');
    process.exit(1);
  });
});
