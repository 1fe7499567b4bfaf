import pg from 'pg';
import type { PgTx } from './pg-transaction.ts';

// Work one replica receives wakes the others: a transaction that makes a job due names its kind
// ("deliveries.fhir", "orders") and PostgreSQL delivers the NOTIFY to every listener at COMMIT
// (never for a rollback). A listener turns it into the job loop's wake(), so a replica whose
// loop is asleep starts at once instead of at its next idle look.

export const JOBS_CHANNEL = 'avara_fhir_sync_jobs';

/** The name a commit that makes a target's delivery due wakes (pg-deliveries.ts, pg-job-kind.ts). */
export const deliveriesWakeName = (target: string) => `deliveries.${target}`;
/** The order job kind's name (ORDER_JOBS.name), woken by order changes and requeues. */
export const ORDERS_WAKE_NAME = 'orders';

/** Wakes the kind's loops on every replica once `tx` commits. */
export function wakeOnCommit(tx: PgTx, kindName: string): void {
  tx.wakes.add(kindName);
}

export interface JobListener {
  /** Calls `wake` for each notification naming `kindName`; returns the unsubscribe. */
  on(kindName: string, wake: () => void): () => void;
  /** Settles once the first LISTEN is in place (rejects if that first connection fails). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface JobListenerOptions {
  /** Wait before reconnecting after the connection was lost. */
  reconnectMs?: number;
  onError?: (error: Error) => void;
  /** Listening again after the connection was lost (not called for the first connection). */
  onReconnected?: () => void;
}

/**
 * LISTENs on a connection of its own (a pooled one would take the LISTEN back to the pool). When
 * that connection is lost it reconnects and then wakes every subscriber once: notifications sent
 * meanwhile are gone, so each loop looks for due work itself.
 */
export function listenForJobs(databaseUrl: string, options: JobListenerOptions = {}): JobListener {
  const reconnectMs = options.reconnectMs ?? 1000;
  const subscribers = new Map<string, Set<() => void>>();
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let firstConnected = false;

  function wakeAll(kindName?: string): void {
    for (const [name, wakes] of subscribers) {
      if (kindName === undefined || name === kindName) for (const wake of wakes) wake();
    }
  }

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: databaseUrl, application_name: 'avara-fhir-sync listener' });
    next.on('notification', (message) => {
      if (message.channel === JOBS_CHANNEL && message.payload) wakeAll(message.payload);
    });
    next.on('error', (error) => lost(next, error));
    next.on('end', () => lost(next, new Error('listener connection ended')));
    try {
      await next.connect();
      await next.query(`LISTEN ${JOBS_CHANNEL}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await next.end();
      return;
    }
    client = next;
    if (firstConnected) {
      options.onReconnected?.();
      wakeAll();
    }
    firstConnected = true;
  }

  function lost(which: pg.Client, error: Error): void {
    if (closed || which !== client) return;
    client = undefined;
    options.onError?.(error);
    void which.end().catch(() => undefined);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((error: Error) => {
        options.onError?.(error);
        scheduleReconnect();
      });
    }, reconnectMs);
    retry.unref();
  }

  const ready = connect();
  // A failed first connection keeps trying in the background; `ready` still reports it.
  ready.catch(() => scheduleReconnect());

  return {
    on(kindName, wake) {
      let wakes = subscribers.get(kindName);
      if (!wakes) subscribers.set(kindName, (wakes = new Set()));
      wakes.add(wake);
      return () => void wakes.delete(wake);
    },
    ready,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
