import { afterEach } from 'vitest';

interface Stoppable {
  stop(): Promise<unknown>;
}

/**
 * For tests that each start their own stand-ins and app: registers one afterEach that stops,
 * newest first, everything the test handed to the returned function, whether it passed or not.
 * Newest first because what starts later may talk to what started before (an app to its receiver).
 */
export function stopAfterEach(): <T extends Stoppable>(started: T) => T {
  let started: Stoppable[] = [];
  afterEach(async () => {
    const stopping = started.reverse();
    started = [];
    const failures: unknown[] = [];
    for (const thing of stopping) await thing.stop().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  });
  return (thing) => {
    started.push(thing);
    return thing;
  };
}
