import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/load-config.ts';
import { createFhirClient } from './fhir/fhir-client.ts';
import { loadSigningKey } from './fhir/smart/load-signing-key.ts';
import { loadR4Definitions } from './fhir/validate-resource.ts';
import { createHttpApp } from './http/create-http-app.ts';
import { listenHttp } from './http/listen-http.ts';
import { openStoreFromConfig } from './store/open-store-from-config.ts';
import type { Store, WorkWakes } from './store/store.ts';
import type { PipelineHooks } from './pipeline-hooks.ts';
import { startPoller, type Poller } from './deliveries/poller.ts';
import { startWorker, type Worker } from './deliveries/delivery-worker.ts';
import { startWorkerThread } from './deliveries/worker-thread/start-worker-thread.ts';
import { startOrderSync, type OrderSync } from './orders/start-order-sync.ts';
import { createSyncWebhookAnswerer } from './answers/answer-synchronous-webhook.ts';
import { createMetrics } from './metrics/create-metrics.ts';
import { createInstrumentedClients, observeUpstream } from './metrics/instrument-clients.ts';
import { watchTargets } from './reachability/watch-targets.ts';

export interface RunningApp {
  url: string;
  store: Store;
  /** Makes an idle worker look at the queue now (after a retry or replay written elsewhere). */
  wake(): void;
  poller: Poller;
  /** The EHR -> Avara order sync; undefined unless ORDERS_ENABLED=true. */
  orders: OrderSync | undefined;
  /** Refuse new webhooks, stop claiming, let in-flight deliveries finish, close the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  now?: () => number;
  acceptIdentifierChange?: boolean;
  /** Crash-test seam; never set by the CLI. */
  hooks?: PipelineHooks;
  /** How often each delivery target's reachability is looked at again (readyz); a test seam. */
  reachabilityIntervalMs?: number;
}

// Senders retry for days; a redelivery must still be recognised as one (issue: keep >= 7 days).
const INBOX_KEEP_MS = 14 * 24 * 3600_000;
const HOUSEKEEPING_MS = 3600_000;
const REACHABILITY_INTERVAL_MS = 60_000;

export async function startApp(config: Config, log: Logger, options: StartOptions = {}): Promise<RunningApp> {
  const now = options.now ?? Date.now;
  // Test seams (hooks, a clock) are functions, which cannot cross into a thread; an in-memory
  // database is private to its connection.
  const inThread = config.delivery.thread && !options.hooks && !options.now && config.store.sqlitePath !== ':memory:';
  // Indexing the FHIR definitions blocks the event loop for a second or two: do it before
  // listening, not on the first delivery while webhooks wait. Only deliveries validate, so with
  // the worker in its thread, the thread does it.
  if (!inThread) loadR4Definitions();
  // A key that cannot sign stops start-up here, not at the first delivery; its public half is
  // what the EHR's registration fetches from /.well-known/jwks.json.
  const jwks = config.fhir.auth.kind === 'private_key_jwt' ? { keys: [(await loadSigningKey(config.fhir.auth)).publicJwk] } : undefined;
  const store = await openStoreFromConfig(config.store);
  const { identifierSystemBase, mrnSystem, accessionSystem } = config.delivery.mapping;
  try {
    await store.settings.checkIdentifierSystems({ identifierSystemBase, mrnSystem, accessionSystem }, options.acceptIdentifierChange ?? false, now());
  } catch (error) {
    await store.close();
    throw error;
  }
  const metrics = createMetrics(store, now, config.delivery.targets, config.poll.intervalMs);
  const { avara, fhir } = createInstrumentedClients(config, metrics);
  const worker = inThread
    ? await startWorkerThread({ config, log, metrics, nice: config.delivery.nice }).catch(async (error: unknown) => {
      await store.close();
      throw error;
    })
    : startWorker({
      store,
      avara,
      fhir,
      log,
      now,
      hooks: options.hooks,
      settings: config.delivery,
      onFinished: metrics.attemptFinished,
    });
  // Created also when POLL_INTERVAL_SECONDS=0 (no schedule), so sweeps can be run on demand.
  const poller = startPoller({ store, avara, log, now, settings: config.poll, onEnqueued: worker.wake });
  const orders = config.orders.enabled ? startOrderSync({
    store, avara, fhir, log, now, hooks: options.hooks, settings: config.orders,
  }) : undefined;
  const replicaWakes = await listenForReplicas(store, log, worker, config.delivery.targets, orders);
  const syncAnswers = createSyncWebhookAnswerer({
    // Its own client: no in-call retries and a timeout of the budget, since Avara is waiting.
    fhir: createFhirClient({
      baseUrl: config.fhir.baseUrl, auth: config.fhir.auth, timeoutMs: config.answers.budgetMs, maxRetries: 0, observe: observeUpstream(metrics, 'fhir'),
    }),
    // Real time, not the injectable clock: the budget is measured against Avara's wait.
    store, log,
    settings: config.answers,
  });
  // In the background, never awaited: an EHR that does not answer holds nothing up here.
  const targetWatch = watchTargets({
    targets: config.delivery.targets, fhir: config.fhir, hl7: config.delivery.hl7, intervalMs: options.reachabilityIntervalMs ?? REACHABILITY_INTERVAL_MS,
  }, log);
  let accepting = true;
  const http = createHttpApp({
    store,
    log,
    settings: { host: config.http.host, adminOperators: config.http.adminOperators, trustProxy: config.http.trustProxy, fhirBaseUrl: config.fhir.baseUrl, maxAttempts: config.delivery.maxAttempts },
    intake: { store, webhookKeys: config.avara.webhookKeys, targets: config.delivery.targets, log, now, onEnqueued: worker.wake, hooks: options.hooks, count: metrics.webhookReceived, syncAnswers },
    isAccepting: () => accepting,
    jwks,
    metrics: metrics.registry,
    onAuthFailure: metrics.adminAuthFailed,
    readiness: { isWorkerRunning: worker.isRunning, fhirLastSuccessAt: metrics.fhirLastSuccessAt, targets: targetWatch.snapshot },
    fhirWebhook: {
      secret: config.orders.fhirWebhookSecret,
      triggerSweep: orders ? () => void orders.sweepNow().catch(() => undefined) : undefined,
    },
  });
  const server = await listenHttp(http, config.http.host, config.http.port);
  const housekeeping = setInterval(() => {
    store.intake.prune(now(), INBOX_KEEP_MS).catch((error: unknown) => log.warn({ err: (error as { code?: string }).code ?? 'error' }, 'inbox not pruned; trying again in an hour'));
  }, HOUSEKEEPING_MS);
  housekeeping.unref();
  const address = server.address() as AddressInfo;
  const url = `http://${formatHost(address.address)}:${address.port}`;
  log.info({ address: url }, 'avara-fhir-sync listening');

  return {
    url,
    store,
    wake: worker.wake,
    poller,
    orders,
    async stop() {
      // New webhooks get 503 + Retry-After while in-flight deliveries finish; then close.
      accepting = false;
      clearInterval(housekeeping);
      await replicaWakes?.close();
      targetWatch.stop();
      await poller.stop();
      await orders?.stop();
      await worker.stop();
      await closeServer(server);
      await store.close();
    },
  };
}

/**
 * On a database shared by replicas (PostgreSQL), work another replica commits wakes this one's
 * loops at once: each delivery target's own loop, and the order worker. One connection per
 * process; SQLite has none (one process, whose own writes wake its loops).
 */
async function listenForReplicas(store: Store, log: Logger, worker: Worker, targets: readonly string[], orders: OrderSync | undefined): Promise<WorkWakes | undefined> {
  // One line when the connection is lost and one when it is back, not one per failed reconnect.
  let lost = false;
  const wakes = store.listenForWork?.({
    onLost(code) {
      if (!lost) log.warn({ code }, 'not listening for other replicas\' work (connection lost); reconnecting, the loops look by themselves meanwhile');
      lost = true;
    },
    onReconnected() {
      if (lost) log.info('listening for other replicas\' work again');
      lost = false;
    },
  });
  if (!wakes) return undefined;
  for (const target of targets) wakes.onDeliveries(target, () => worker.wakeTarget(target));
  if (orders) wakes.onOrders(orders.wake);
  // Listening before serve says it is: a replica that answers already hears the others. If the
  // first connection fails it keeps trying; the idle looks carry the work meanwhile.
  await wakes.ready.catch(() => undefined);
  return wakes;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
