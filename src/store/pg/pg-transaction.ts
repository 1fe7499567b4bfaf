import { AsyncLocalStorage } from 'node:async_hooks';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool, PoolClient } from 'pg';
import type { AuditEventInput } from '../audit.ts';
import pg from 'pg';
import { appendAuditRowsSql } from './pg-audit.ts';
import { JOBS_CHANNEL } from './pg-notify.ts';
import type { PgDb } from './pg-db.ts';
import * as schema from './schema.ts';

export type { PgDb };

/** One open transaction: its connection, and what it writes when it ends. */
export interface PgTx {
  db: PgDb;
  client: PoolClient;
  /** Audit rows, written at the end, right before COMMIT (pg-audit.ts says why). */
  audits: AuditEventInput[];
  /** Job kinds to wake on other replicas once this commits (NOTIFY is delivered on commit). */
  wakes: Set<string>;
}

/**
 * The transaction a caller's store calls run in. `step`: calls join it directly (they are awaited
 * one after another by whoever opened it). `collect`: inside `together`, whose writes may call
 * verbs without awaiting them (JobQueue.together is synchronous for SQLite's sake); each call is
 * queued behind the previous one on the one connection, so they run in call order, never
 * interleaved, and `together` commits once they have all run.
 */
interface Scope {
  pool: Pool;
  tx: PgTx;
  mode: 'step' | 'collect';
  tail: Promise<void>;
  failure?: { error: unknown };
  closed: boolean;
}

const current = new AsyncLocalStorage<Scope>();
const drizzles = new WeakMap<PoolClient, PgDb>();

export interface TransactionOptions {
  /**
   * false: the commit does not wait for its WAL flush (synchronous_commit off for this one
   * transaction), as SQLite's writeWithoutFsync. Only for writes whose loss in a server crash is
   * harmless (a claim, a lock, a renewal: the job is simply still queued). WAL order is kept: a
   * later durable commit makes this one durable too, so the audit chain loses at most its tail.
   * Joining a caller's transaction, the writes take its durability.
   */
  durable?: boolean;
}

/** Runs `work` in a transaction: the caller's on this pool when there is one, else a new one. */
export function inTransaction<T>(pool: Pool, work: (tx: PgTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const scope = current.getStore();
  if (scope && scope.pool === pool && !scope.closed) {
    return scope.mode === 'step' ? work(scope.tx) : queueStep(scope, work);
  }
  return transaction(pool, options, async (tx) => {
    const step: Scope = { pool, tx, mode: 'step', tail: Promise.resolve(), closed: false };
    try {
      return await current.run(step, () => work(tx));
    } finally {
      step.closed = true;
    }
  });
}

/**
 * Several store calls as one commit, awaited or not: the PostgreSQL side of JobQueue.together.
 * Any call failing rolls back all of them and rejects.
 */
export function together<T>(pool: Pool, writes: () => T): Promise<Awaited<T>> {
  const scope = current.getStore();
  if (scope && scope.pool === pool && !scope.closed) return Promise.resolve(writes()) as Promise<Awaited<T>>;
  return transaction(pool, {}, async (tx): Promise<Awaited<T>> => {
    const collect: Scope = { pool, tx, mode: 'collect', tail: Promise.resolve(), closed: false };
    try {
      const result = await current.run(collect, writes);
      // A call may queue another while it runs: wait until the queue stays empty.
      for (let seen: Promise<void> | undefined; seen !== collect.tail;) await (seen = collect.tail);
      if (collect.failure) throw collect.failure.error;
      return result;
    } finally {
      collect.closed = true;
    }
  });
}

function queueStep<T>(scope: Scope, work: (tx: PgTx) => Promise<T>): Promise<T> {
  const run = scope.tail.then(async () => {
    if (scope.failure) throw scope.failure.error;
    const step: Scope = { ...scope, mode: 'step', closed: false };
    try {
      return await current.run(step, () => work(scope.tx));
    } finally {
      step.closed = true;
    }
  });
  scope.tail = run.then(() => undefined, (error: unknown) => {
    scope.failure ??= { error };
  });
  // A caller that does not await its call must not crash the process: `together` rethrows.
  run.catch(() => undefined);
  return run;
}

function transaction<T>(pool: Pool, options: TransactionOptions, work: (tx: PgTx) => Promise<T>): Promise<T> {
  return onConnection(pool, async (client, rollBack) => {
    await client.query(options.durable === false ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
    const tx: PgTx = { db: drizzleOn(client), client, audits: [], wakes: new Set() };
    try {
      const result = await work(tx);
      await client.query(closingStatements(tx));
      return result;
    } catch (error) {
      await rollBack(error);
      throw error;
    }
  });
}

/**
 * A transaction sent as one query string, BEGIN to COMMIT (simple protocol, no parameters: the
 * statements carry their values as escaped literals): one round trip whatever it writes. Resolves
 * to each statement's result in order, BEGIN's first. A statement that fails skips the rest of the
 * string, COMMIT too, and the transaction is rolled back.
 */
export function transactionInOneRoundTrip(pool: Pool, statements: readonly string[]): Promise<pg.QueryResult[]> {
  return onConnection(pool, async (client, rollBack) => {
    try {
      return await client.query(['BEGIN', ...statements, 'COMMIT'].join(';\n')) as unknown as pg.QueryResult[];
    } catch (error) {
      await rollBack(error);
      throw error;
    }
  });
}

/**
 * Runs `use` on a pooled connection and gives it back, or discards it when it broke: a connection
 * that failed mid-transaction (server gone) is not handed out again. `rollBack(error)` ends the
 * failed transaction, unless the error was the connection itself.
 */
async function onConnection<T>(pool: Pool, use: (client: PoolClient, rollBack: (error: unknown) => Promise<void>) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // The server ending the connection between two statements is an 'error' event on the checked-out
  // client (nobody is listening for it): unhandled, it would take the process down.
  const onError = (error: Error) => void (broken ??= error);
  client.on('error', onError);
  const rollBack = async (error: unknown) => {
    if (!broken && isConnectionError(error)) broken = error as Error;
    if (!broken) await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
  };
  try {
    return await use(client, rollBack);
  } catch (error) {
    if (!broken && isConnectionError(error)) broken = error as Error;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/**
 * The transaction's last round trip: its wakes, its audit rows, COMMIT, as one query string. A
 * statement that fails skips the rest of the string, COMMIT too, and the caller rolls back.
 * NOTIFY is sent at COMMIT wherever it stands in the transaction.
 */
function closingStatements(tx: PgTx): string {
  const statements: string[] = [];
  if (tx.wakes.size > 0) statements.push(`SELECT pg_notify(${pg.escapeLiteral(JOBS_CHANNEL)}, kind) FROM unnest(ARRAY[${[...tx.wakes].map((kind) => pg.escapeLiteral(kind)).join(', ')}]::text[]) AS kind`);
  const audit = appendAuditRowsSql(tx);
  if (audit) statements.push(audit);
  statements.push('COMMIT');
  return statements.join('; ');
}

function drizzleOn(client: PoolClient): PgDb {
  let db = drizzles.get(client);
  if (!db) drizzles.set(client, (db = drizzle({ client, schema })));
  return db;
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  // Class 08 (connection exception), 57P01-03 (the server shut down), or a socket error.
  return typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P') || code.startsWith('E'));
}

export type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs each of `works` in its own savepoint of one transaction (store calls inside join it): a
 * failing one is rolled back alone, with its audit rows and wakes; the rest commit together.
 * Rejects, committing nothing, when the transaction itself fails (connection lost, COMMIT refused).
 */
export function transactionOfEach(pool: Pool, works: readonly (() => Promise<unknown>)[]): Promise<Settled[]> {
  return transaction(pool, {}, async (tx) => {
    const outcomes: Settled[] = [];
    for (const work of works) {
      const audits = tx.audits.length;
      const wakes = new Set(tx.wakes);
      await tx.client.query('SAVEPOINT one_of_each');
      const step: Scope = { pool, tx, mode: 'step', tail: Promise.resolve(), closed: false };
      try {
        const value = await current.run(step, work);
        await tx.client.query('RELEASE SAVEPOINT one_of_each');
        outcomes.push({ ok: true, value });
      } catch (error) {
        await tx.client.query('ROLLBACK TO SAVEPOINT one_of_each');
        tx.audits.length = audits;
        tx.wakes = wakes;
        outcomes.push({ ok: false, error });
      } finally {
        step.closed = true;
      }
    }
    return outcomes;
  });
}
