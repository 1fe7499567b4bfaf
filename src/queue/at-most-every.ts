import { oncePerTurn } from './once-per-turn.ts';

/**
 * `run` on the next turn of the event loop, as oncePerTurn does, then at most once every `ms`:
 * calls within `ms` of a run are one more run when the `ms` are over. None is lost; a burst only
 * waits up to `ms` for its run. The delivery thread's wakes use it: each posted wake costs the
 * main thread tens of µs (a message to another thread), nearly one per webhook under load with a
 * few webhooks per turn, and the thread needs one per look, not one per webhook.
 */
export function atMostEvery(ms: number, run: () => void): () => void {
  let resting = false;
  let calledWhileResting = false;
  const schedule = oncePerTurn(() => {
    resting = true;
    // Unref'd: a wake still owed is nothing a process that is ending needs to stay up for.
    setTimeout(rest, ms).unref();
    run();
  });
  function rest(): void {
    resting = false;
    if (calledWhileResting) {
      calledWhileResting = false;
      schedule();
    }
  }
  return () => {
    if (resting) calledWhileResting = true;
    else schedule();
  };
}
