import { describe, expect, it } from 'vitest';
import { checkReplayAnswer, splitByReport } from '../bench/fhir-replay.ts';
import type { RecordedRequest } from '../bench/recording-proxy.ts';

const BASE = '/fhir/R4';
const get = (path: string): RecordedRequest => ({ method: 'GET', path: `${BASE}/${path}`, headers: {}, body: Buffer.alloc(0) });
const transaction = (): RecordedRequest => ({ method: 'POST', path: BASE, headers: { prefer: 'return=minimal' }, body: Buffer.from('{"resourceType":"Bundle"}') });
const readBack = (study: string) => get(`DiagnosticReport?identifier=sys%7C${study}&_count=2&_elements=identifier`);
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('splitting recorded FHIR requests by report', () => {
  it('ends each report with the read-back after its transaction, signer searches included where they came', () => {
    const first = [get('Practitioner?identifier=u%7Cusr_1&_count=1'), get('Patient?identifier=m%7C1'), transaction(), readBack('stu_1')];
    const second = [get('Patient?identifier=m%7C2'), transaction(), readBack('stu_2')];
    expect(splitByReport([...first, ...second], BASE)).toEqual([first, second]);
  });

  it('keeps a DiagnosticReport search before the transaction inside the report', () => {
    const report = [get('Patient?identifier=m%7C1'), readBack('stu_1'), transaction(), readBack('stu_1')];
    expect(splitByReport(report, BASE)).toEqual([report]);
  });

  it('refuses a delivery that did not finish, or one that sent its transaction twice', () => {
    expect(() => splitByReport([get('Patient?identifier=m%7C1'), transaction()], BASE)).toThrow(/did not finish/);
    expect(() => splitByReport([transaction(), transaction(), readBack('stu_1')], BASE)).toThrow(/2 transactions/);
  });
});

describe('checking a replayed answer', () => {
  it('accepts a transaction whose entries all succeeded and a read-back that finds one report', () => {
    expect(() => checkReplayAnswer(transaction(), BASE, 200, json({ type: 'transaction-response', entry: [{ response: { status: '201 Created' } }] }))).not.toThrow();
    expect(() => checkReplayAnswer(readBack('stu_1'), BASE, 200, json({ entry: [{}] }))).not.toThrow();
  });

  it('refuses an error status, a failed entry, and a read-back that finds nothing', () => {
    expect(() => checkReplayAnswer(get('Patient?identifier=m%7C1'), BASE, 500, Buffer.alloc(0))).toThrow(/500/);
    expect(() => checkReplayAnswer(transaction(), BASE, 200, json({ type: 'transaction-response', entry: [{ response: { status: '412' } }] }))).toThrow(/1 failed/);
    expect(() => checkReplayAnswer(readBack('stu_1'), BASE, 200, json({ entry: [] }))).toThrow(/found 0/);
  });
});
