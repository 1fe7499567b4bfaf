import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/create-logger.ts';

function capture(): { lines: () => Record<string, unknown>[]; text: () => string; sink: Writable } {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  return { sink, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logged errors keep name, code and a URL-free message only', () => {
  it('drops URLs, stacks, causes and attached responses from an Error', () => {
    const out = capture();
    const error = Object.assign(new TypeError('GET https://files.example/pdf/rep_1?X-Amz-Signature=abc123 failed for Zebulon'), {
      code: 'ECONNRESET',
      response: { body: 'MRN-CANARY-771' },
      cause: new Error('Canaryfeather'),
    });
    createLogger('info', out.sink).error({ err: error }, 'download failed');
    const [line] = out.lines();
    expect(line!.err).toEqual({ type: 'TypeError', code: 'ECONNRESET', message: 'GET [url] failed for Zebulon' });
    expect(out.text()).not.toMatch(/X-Amz-Signature|MRN-CANARY|Canaryfeather|at .*\.ts/);
  });

  it('serializes an Error given as the first argument the same way', () => {
    const out = capture();
    createLogger('info', out.sink).warn(new Error('see http://fhir.example/Patient?identifier=H-123'), 'oops');
    expect(out.lines()[0]!.err).toEqual({ type: 'Error', message: 'see [url]' });
  });

  it('strips URLs from an err given as a string, and caps its length', () => {
    const out = capture();
    createLogger('info', out.sink).error({ err: `fetch http://x.example/a?token=s3cret ${'x'.repeat(400)}` }, 'failed');
    const err = out.lines()[0]!.err as string;
    expect(err.startsWith('fetch [url] ')).toBe(true);
    expect(err.length).toBeLessThanOrEqual(301);
  });

  it('masks patient fields, labels, bodies and secrets wherever they appear', () => {
    const out = capture();
    createLogger('info', out.sink).info({ study: { reportMetadata: { patientName: 'Zebulon' } }, delivery: { patientLabel: 'Z.C. ···-771', body: 'x' }, token: 't0k3n', auth: { password: 'pw' } }, 'x');
    expect(out.text()).not.toMatch(/Zebulon|-771|t0k3n|"pw"/);
  });
});
