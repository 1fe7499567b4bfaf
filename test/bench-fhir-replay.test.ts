import { describe, expect, it } from 'vitest';
import { checkReplayAnswer, groupByStudy, splitByReport } from '../bench/fhir-replay.ts';
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

describe('grouping requests of concurrent deliveries by report', () => {
  const tx = (study: string, created: { patient?: string; signers?: string[] }): RecordedRequest => ({
    method: 'POST', path: BASE, headers: {}, body: json({
      resourceType: 'Bundle',
      entry: [
        ...(created.patient ? [{ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=m%7C${created.patient}` } }] : []),
        ...(created.signers ?? []).map((u) => ({ resource: { resourceType: 'Practitioner' }, request: { method: 'POST', url: 'Practitioner', ifNoneExist: `identifier=u%7C${u}` } })),
        { resource: { resourceType: 'DiagnosticReport' }, request: { method: 'PUT', url: `DiagnosticReport?identifier=s%7C${study}` } },
      ],
    }),
  });
  const patient = (mrn: string) => get(`Patient?identifier=m%7C${mrn}&_count=2`);
  const signer = (user: string) => get(`Practitioner?identifier=u%7C${user}&_count=1`);
  const back = (study: string) => get(`DiagnosticReport?identifier=s%7C${study}&_count=2&_elements=identifier`);

  it('gives each report its own searches, transaction and read-back, in the order they were sent', () => {
    const a = [signer('usr_1'), patient('A'), tx('stu_a', { patient: 'A', signers: ['usr_1'] }), back('stu_a')];
    const b = [patient('B'), tx('stu_b', { patient: 'B', signers: ['usr_2'] }), back('stu_b')];
    const interleaved = [a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!, a[3]!];
    expect(groupByStudy(interleaved, BASE)).toEqual([a, b]);
  });

  it('gives the search of a patient found (created by an earlier report) to the transaction without a Patient entry', () => {
    const first = [patient('A'), tx('stu_1', { patient: 'A' }), back('stu_1')];
    const again = [patient('A'), tx('stu_2', {}), back('stu_2')];
    const other = [patient('C'), tx('stu_3', { patient: 'C' }), back('stu_3')];
    const interleaved = [...first, other[0]!, again[0]!, again[1]!, other[1]!, again[2]!, other[2]!];
    expect(groupByStudy(interleaved, BASE)).toEqual([first, other, again]);
  });

  it('leaves out serve`s start-up look at the server', () => {
    const report = [patient('A'), tx('stu_1', { patient: 'A' }), back('stu_1')];
    expect(groupByStudy([report[0]!, get('metadata'), report[1]!, report[2]!], BASE)).toEqual([report]);
  });

  it('refuses a search no transaction took, and a request no delivery step explains', () => {
    expect(() => groupByStudy([patient('A')], BASE)).toThrow(/no transaction took/);
    expect(() => groupByStudy([get('Observation?code=x')], BASE)).toThrow(/no delivery step explains/);
  });
});
