export type RunSerially = <T>(task: () => Promise<T>) => Promise<T>;

export type SerialQueue = { run: RunSerially };

/** Runs tasks one after another, in arrival order; a failing task does not stop the ones behind it. */
export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      const result = tail.then(task, task);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
