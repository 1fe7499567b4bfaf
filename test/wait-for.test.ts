import { describe, expect, it } from 'vitest';
import { failOnStall, sleep, waitFor } from './support/wait-for.ts';

// The tests' own waiting helper: long tests rely on it to tell a slow run from a stuck one.
describe('waiting in tests: a deadline for small work, a stall bound for long work', () => {
  it('fails a deadline wait once the deadline has passed, naming what it waited for', async () => {
    await expect(waitFor('the never', () => false, 100)).rejects.toThrow('timed out waiting for the never');
  });

  it('keeps waiting past the stall bound while the progress probe keeps changing, and returns the value', async () => {
    const startedAt = Date.now();
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 20);
    try {
      const value = await waitFor('600 ms to pass', () => Date.now() - startedAt > 600 && 'done', { stallMs: 150, progress: () => ticks });
      expect(value).toBe('done');
    } finally {
      clearInterval(ticking);
    }
  });

  it('fails a stall-bound wait when the progress probe stood still, with the explanation', async () => {
    const wait = waitFor('the stuck queue', () => false, { stallMs: 150, progress: () => 7, explain: () => 'queued: 3' });
    await expect(wait).rejects.toThrow(/nothing moved for 0.15 s while waiting for the stuck queue \(progress 7\); queued: 3/);
  });

  it('awaits an asynchronous check', async () => {
    let calls = 0;
    expect(await waitFor('the third call', async () => (++calls === 3 ? calls : undefined), 1000)).toBe(3);
  });

  it('lets long work finish while it moves, and fails it when it stops moving', async () => {
    let steps = 0;
    const moving = (async () => { for (let i = 0; i < 10; i++) { await sleep(50); steps++; } return steps; })();
    expect(await failOnStall('moving work', moving, { stallMs: 300, progress: () => steps })).toBe(10);
    const stuck = new Promise<never>(() => undefined);
    await expect(failOnStall('stuck work', stuck, { stallMs: 300, progress: () => 0 })).rejects.toThrow('nothing moved for 0.3 s during stuck work');
  });
});
