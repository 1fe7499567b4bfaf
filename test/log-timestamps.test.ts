import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/create-logger.ts';

describe('log lines', () => {
  it('carry their time as ISO 8601 in UTC, not epoch milliseconds', () => {
    const chunks: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
    const before = Date.now();
    createLogger('info', sink).info({ reportId: 'rep_1' }, 'delivered');
    const line = JSON.parse(chunks.join('')) as { time: unknown; msg: string };
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(line.time as string)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(line.time as string)).toBeLessThanOrEqual(Date.now());
    expect(line.msg).toBe('delivered');
  });
});
