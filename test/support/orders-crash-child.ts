/**
 * Test-only entry: the app as `serve` starts it, killed with SIGKILL the first time an order's
 * Avara create has answered and before anything of it is recorded (`ORDERS_CRASH_AFTER_CREATE=1`).
 * Without that variable no hooks are passed: the production code path.
 */
import { startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/create-logger.ts';
import type { PipelineHooks } from '../../src/pipeline-hooks.ts';

const hooks: PipelineHooks | undefined = process.env.ORDERS_CRASH_AFTER_CREATE === '1'
  ? { at: (point) => void (point === 'after_avara_create' && process.kill(process.pid, 'SIGKILL')) }
  : undefined;
const config = loadConfig(process.env);
await startApp(config, createLogger(config.logLevel), { hooks });
