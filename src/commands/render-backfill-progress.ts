import type { BackfillProgress } from '../deliveries/backfill.ts';

/**
 * Progress of `backfill` for a person: one redrawn line on a terminal, plain lines (at most one
 * every few seconds) when stdout is a file or a pipe. The API has no total count, so the ETA is
 * based on the number of studies the poller saw last time, when it has seen any.
 */
export function createBackfillProgress(out: NodeJS.WriteStream | NodeJS.WritableStream, expectedStudies: number, dryRun: boolean) {
  const isTty = 'isTTY' in out && out.isTTY === true;
  const started = Date.now();
  let lastPlainAt = 0;
  const render = (p: BackfillProgress): string => {
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    const rate = (p.requests / seconds).toFixed(1);
    const eta = expectedStudies > p.studies && p.studies > 0 ? formatDuration(((expectedStudies - p.studies) * seconds) / p.studies) : 'unknown';
    const enqueued = dryRun ? 'would enqueue' : 'enqueued';
    return `pages ${p.pages} | studies ${p.studies}${expectedStudies ? `/~${expectedStudies}` : ''} | reports found ${p.found} | ${enqueued} ${dryRun ? p.found : p.enqueued} | ${rate} req/s | ETA ${eta}`;
  };
  return {
    update(p: BackfillProgress): void {
      if (isTty) {
        out.write(`\r\x1b[2K${bar(p.studies, expectedStudies)} ${render(p)}`);
      } else if (Date.now() - lastPlainAt >= 2000) {
        lastPlainAt = Date.now();
        out.write(`${render(p)}\n`);
      }
    },
    finish(p: BackfillProgress): void {
      if (isTty) out.write('\n');
      out.write(
        `${verdict(p, dryRun)}: ${p.pages} pages, ${p.studies} studies, ${p.found} signed reports in range, ` +
          `${dryRun ? `${p.found} would be enqueued (dry run)` : `${p.enqueued} enqueued`}, ${p.alreadyKnown} already known, ${p.requests} requests\n`,
      );
    },
  };
}

// A dry run enqueues nothing, so an interrupted one has nothing to continue: its counts are partial.
function verdict(p: BackfillProgress, dryRun: boolean): string {
  if (dryRun) return p.interrupted ? 'backfill dry run interrupted (nothing was enqueued; the counts cover only the studies seen so far)' : 'backfill dry run complete (nothing was enqueued)';
  return p.interrupted ? 'backfill interrupted (everything enqueued so far stays queued; run again to continue)' : 'backfill complete';
}

function bar(done: number, total: number): string {
  if (!total) return '[' + '.'.repeat(20) + ']';
  const filled = Math.min(20, Math.round((done / total) * 20));
  return `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}]`;
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
