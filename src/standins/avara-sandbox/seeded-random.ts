import { randomInt } from 'node:crypto';

/** A small deterministic PRNG, so a sandbox started with the same seed serves the same data. */
export interface SeededRandom {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  hex(length: number): string;
  digits(length: number): string;
}

export function createSeededRandom(seed: number = randomInt(2 ** 31)): SeededRandom {
  // mulberry32: tiny, fast, and good enough for fake data (not for secrets).
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const repeat = (length: number, alphabet: string): string =>
    Array.from({ length }, () => alphabet[int(0, alphabet.length - 1)]).join('');
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)] as T;
    },
    chance: (probability) => next() < probability,
    hex: (length) => repeat(length, '0123456789abcdef'),
    digits: (length) => repeat(length, '0123456789'),
  };
}
