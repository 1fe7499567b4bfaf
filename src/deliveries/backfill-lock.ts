import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../store/store.ts';

export const BACKFILL_LOCK = 'sweep:backfill';
export const BACKFILL_LOCK_MS = 120_000;

export class BackfillBusyError extends Error {
  override name = 'BackfillBusyError';
}

/** The backfill that held the lock before, when this one took it over from a dead process. */
export interface StaleHolder {
  pid: number;
  host: string;
}

/**
 * Takes the one backfill lock of the database. The holder names its host and process id, so a
 * backfill killed with SIGKILL (no chance to release) on this host is recognised as gone at once
 * instead of blocking every run until its lease lapses; on another host we cannot look, and say
 * when the lease lapses by itself.
 */
export async function acquireBackfillLock(store: Store, now: number): Promise<{ holder: string; tookOverFrom: StaleHolder | undefined }> {
  const holder = `${hostname()}/${process.pid}/${randomUUID()}`;
  if (await store.locks.tryAcquire([BACKFILL_LOCK], holder, now + BACKFILL_LOCK_MS, now)) return { holder, tookOverFrom: undefined };
  const current = await store.locks.read(BACKFILL_LOCK);
  const other = current && parseHolder(current.holder);
  if (current && other && other.host === hostname() && other.pid !== process.pid && !isRunning(other.pid)) {
    // Fenced on the dead holder's name: a backfill that took the lock meanwhile keeps it.
    if (await store.locks.takeOver(BACKFILL_LOCK, current.holder, holder, now + BACKFILL_LOCK_MS)) return { holder, tookOverFrom: other };
  }
  const who = other ? `process ${other.pid} on ${other.host}` : 'another process';
  const lapses = current ? `; if it was killed, its lock lapses at ${new Date(current.expiresAt).toISOString()}` : '';
  throw new BackfillBusyError(`another backfill (${who}) is running on this database; wait for it to finish or stop it${lapses}`);
}

function parseHolder(holder: string): StaleHolder | undefined {
  const match = /^(.+)\/(\d+)\/[0-9a-f-]{36}$/.exec(holder);
  return match ? { host: match[1]!, pid: Number(match[2]) } : undefined;
}

/** Signal 0 checks existence only; EPERM means it exists under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
