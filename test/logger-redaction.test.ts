import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED_KEYS, safeError } from '../src/create-logger.ts';

// The logger once gave pino every key twice, `key` and `*.key`; the wildcard paths cost most of
// a line, so one level down is masked by our own formatter now. It must mask exactly as they did.
function withWildcardPaths(sink: Writable): Logger {
  return pino({
    level: 'info',
    base: { service: 'avara-fhir-sync' },
    redact: { paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((key) => `*.${key}`)], censor: '[redacted]' },
    serializers: { err: safeError, error: safeError },
  }, sink);
}

function linesOf(write: (log: Logger) => void, make: (sink: Writable) => Logger): unknown[] {
  const chunks: string[] = [];
  write(make(new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } })));
  return chunks.join('').trim().split('\n').map((line) => {
    const { time: _time, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return rest;
  });
}

const CASES: [string, (log: Logger) => void][] = [
  ['ids and outcomes', (log) => log.info({ type: 'report.delivered', webhookId: 'msg_1', reportId: 'rep_1', attempt: 2, critical: true, none: null }, 'webhook accepted')],
  ['top-level keys', (log) => log.info({ mrn: 'MRN-1', token: 't0k3n', headers: { a: 'b' }, body: 'x', url: 'https://x.example/?s=1' }, 'x')],
  ['one level down', (log) => log.info({ study: { reportMetadata: { patientName: 'Zebulon' }, id: 's1' }, delivery: { patientLabel: 'Z.C.', body: 'x', id: 'd1' }, auth: { password: 'pw' } }, 'x')],
  ['two levels down is left as pino left it', (log) => log.info({ a: { b: { mrn: 'MRN-2' } } }, 'x')],
  ['arrays', (log) => log.info({ list: [{ mrn: 'MRN-3' }], pair: ['mrn', 'x'] }, 'x')],
  ['errors go through safeError', (log) => log.error({ err: Object.assign(new TypeError('GET http://x.example/a failed'), { url: 'http://x.example/a', body: 'MRN-4' }) }, 'failed')],
  ['an Error under another key', (log) => log.error({ cause: Object.assign(new Error('boom'), { token: 's3cret', code: 'E1' }) }, 'failed')],
  ['child bindings', (log) => log.child({ thread: 'delivery', ctx: { token: 't0k3n', id: 1 } }).info({ reportId: 'rep_1' }, 'x')],
  ['bindings of a child of a child', (log) => log.child({ thread: 'delivery' }).child({ job: { mrn: 'MRN-6', id: 2 } }).info('x')],
  ['interpolated objects', (log) => log.info('sent %j and %o', { mrn: 'MRN-5', nested: { token: 'z' }, id: 1 }, { ok: true })],
  ['interpolated after a merging object', (log) => log.info({ reportId: 'rep_1' }, 'sent %j', { patientName: 'Zebulon', inner: { apiKey: 'k' } })],
];

describe('log redaction', () => {
  for (const [name, write] of CASES) {
    it(`masks ${name} exactly as pino's wildcard paths did`, () => {
      expect(linesOf(write, (sink) => createLogger('info', sink))).toEqual(linesOf(write, withWildcardPaths));
    });
  }
});
