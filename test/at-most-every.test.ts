import { describe, expect, it } from 'vitest';
import { atMostEvery } from '../src/queue/at-most-every.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('atMostEvery', () => {
  it('runs on the next turn after a first call, once for all calls of that turn', async () => {
    let runs = 0;
    const call = atMostEvery(20, () => runs++);
    call();
    call();
    expect(runs).toBe(0);
    await turn();
    expect(runs).toBe(1);
  });

  it('runs once more after the interval for calls made within it, and never loses one', async () => {
    let runs = 0;
    const call = atMostEvery(20, () => runs++);
    call();
    await turn();
    call();
    await turn();
    call();
    expect(runs).toBe(1);
    await sleep(40);
    expect(runs).toBe(2);
    await sleep(40);
    expect(runs).toBe(2);
  });

  it('runs at once again once the interval has passed without calls', async () => {
    let runs = 0;
    const call = atMostEvery(10, () => runs++);
    call();
    await turn();
    await sleep(25);
    call();
    await turn();
    expect(runs).toBe(2);
  });
});
