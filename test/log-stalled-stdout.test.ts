import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_PENDING_LOG_BYTES } from '../src/create-logger.ts';

const CHILD = fileURLToPath(new URL('./support/log-flood-child.ts', import.meta.url));

describe('stdout that nobody reads (a stalled log shipper)', () => {
  it('keeps at most MAX_PENDING_LOG_BYTES of lines waiting, drops the rest, says so on stderr, and exits once stdout is read again', async () => {
    // 200,000 lines of ~200 bytes: ~40 MiB, more than twice the bound.
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, LINES: '200000' }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.pause();
    let stderr = '';
    const done = new Promise<{ rssMiB: number }>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const line = stderr.split('\n').find((l) => l.includes('"done"'));
        if (line) resolve(JSON.parse(line) as { rssMiB: number });
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before it was done: ${stderr}`)));
    });
    const { rssMiB } = await done;
    // Then read everything it wrote, and let it exit.
    let bytes = 0;
    child.stdout.on('data', (chunk: Buffer) => void (bytes += chunk.length));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdin.end();
    expect(await exited).toBe(0);
    const dropped = stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg?: string; droppedLines?: number }).find((l) => l.msg?.startsWith('log lines dropped'));
    expect(dropped?.droppedLines).toBeGreaterThan(0);
    // What was kept is what the bound allows (plus what the pipe itself held), not the 40 MiB.
    expect(bytes).toBeLessThan(MAX_PENDING_LOG_BYTES + 2 * 2 ** 20);
    expect(bytes).toBeGreaterThan(MAX_PENDING_LOG_BYTES / 2);
    expect(rssMiB).toBeLessThan(400);
  }, 60_000);
});
