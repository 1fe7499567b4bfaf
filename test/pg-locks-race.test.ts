import { describe, expect, it } from 'vitest';
import type { PostgresStore } from '../src/store/pg/pg-store.ts';
import { twoPostgresStores } from './support/pg-two-replicas.ts';

// The lock rows (src/store/pg/pg-locks.ts) raced from two replicas' pools at the same instant:
// one taker wins a contested key, overlapping key sets asked in opposite orders are taken
// all-or-none by one of them, and a lapsed lock goes to exactly one of two takers. (Whether the
// sorted order prevents a deadlock is not shown here: the window of one multi-row INSERT is too
// small for two pools to hit reliably.)

const ROUNDS = 25;
const T0 = 1_000_000;

let a: PostgresStore;
let b: PostgresStore;

twoPostgresStores((replicas) => ({ a, b } = replicas));

describe('lock rows raced by two replicas (PostgreSQL)', () => {
  it('gives a contested key to exactly one of two takers, every time', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const key = `sweep:race-${round}`;
      const won = await Promise.all([
        a.locks.tryAcquire([key], `a-${round}`, T0 + 60_000, T0),
        b.locks.tryAcquire([key], `b-${round}`, T0 + 60_000, T0),
      ]);
      expect(won.filter(Boolean), key).toHaveLength(1);
      expect((await a.locks.read(key))?.holder).toBe(won[0] ? `a-${round}` : `b-${round}`);
    }
  });

  it('takes overlapping key sets asked in opposite orders all-or-none, for one taker only', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const study = `study:s-${round}`;
      const patient = `patient:p-${round}`;
      const won = await Promise.all([
        a.locks.tryAcquire([study, patient, `signer:a-${round}`], `a-${round}`, T0 + 60_000, T0),
        b.locks.tryAcquire([`signer:b-${round}`, patient, study], `b-${round}`, T0 + 60_000, T0),
      ]);
      expect(won.filter(Boolean), `round ${round}`).toHaveLength(1);
      const winner = won[0] ? `a-${round}` : `b-${round}`;
      const loser = won[0] ? `b-${round}` : `a-${round}`;
      expect((await a.locks.read(study))?.holder).toBe(winner);
      expect((await a.locks.read(patient))?.holder).toBe(winner);
      // The loser took none of its keys, not even the one nobody else asked for.
      expect(await a.locks.read(`signer:${loser}`)).toBeUndefined();
    }
  });

  it('hands a lapsed lock to exactly one of two takers, and not while it is still held', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const key = `study:lapsed-${round}`;
      expect(await a.locks.tryAcquire([key], 'dead-holder', T0 + 5_000, T0)).toBe(true);
      // Still held at its expiry instant: neither may take it.
      const early = await Promise.all([
        a.locks.tryAcquire([key], `a-${round}`, T0 + 65_000, T0 + 5_000),
        b.locks.tryAcquire([key], `b-${round}`, T0 + 65_000, T0 + 5_000),
      ]);
      expect(early).toEqual([false, false]);
      const won = await Promise.all([
        a.locks.tryAcquire([key], `a-${round}`, T0 + 65_000, T0 + 5_001),
        b.locks.tryAcquire([key], `b-${round}`, T0 + 65_000, T0 + 5_001),
      ]);
      expect(won.filter(Boolean), key).toHaveLength(1);
      expect((await b.locks.read(key))?.holder).toBe(won[0] ? `a-${round}` : `b-${round}`);
    }
  });
});
