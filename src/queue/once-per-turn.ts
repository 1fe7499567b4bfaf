/**
 * `run` deferred to the next turn of the event loop and coalesced: however often the returned
 * function is called in one turn, `run` happens once after it. Wakes use it so that a webhook's
 * wake does no work before that webhook's own answer is written, and a burst is one look.
 */
export function oncePerTurn(run: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      run();
    });
  };
}
