/** Runs task(0..count-1) with at most `lanes` in flight; the first failure rejects. */
export async function runLanes(count: number, lanes: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
}
