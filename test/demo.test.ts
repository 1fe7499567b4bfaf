import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/commands/run-demo.ts';
import { runOrdersDemo } from '../src/commands/run-orders-demo.ts';

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out, text: () => text };
}

describe('the embedded demos', () => {
  it('signs off reports and prints them delivered, with initials only', async () => {
    const { out, text } = capture();
    const result = await runDemo({ reports: 4, keep: false, out });
    expect(result.ok).toBe(true);
    expect(text()).toMatch(/^report\s+patient\s+status\s+FHIR DiagnosticReport$/m);
    expect(text().match(/ delivered {2}DiagnosticReport\//g)).toHaveLength(4);
    expect(text()).toMatch(/delivered: 4/);
  });

  it('generates an admin token and prints it with --keep; the API refuses requests without it', async () => {
    const { out, text } = capture();
    const result = await runDemo({ reports: 1, keep: true, out });
    try {
      const token = /^ {2}admin token {2}(\S+)/m.exec(text())?.[1];
      const service = /^ {2}service {6}(\S+)/m.exec(text())?.[1];
      expect(token).toBeDefined();
      expect((await fetch(`${service}/api/deliveries`)).status).toBe(401);
      expect((await fetch(`${service}/api/deliveries`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await result.stop();
    }
  });

  it('--targets fhir,hl7v2 delivers each report to the FHIR store and to the embedded MLLP receiver, and prints both', async () => {
    const { out, text } = capture();
    const result = await runDemo({ reports: 3, keep: false, out, targets: ['fhir', 'hl7v2'] });
    expect(result.ok).toBe(true);
    expect(text()).toMatch(/^report\s+patient\s+fhir\s+FHIR DiagnosticReport\s+hl7v2\s+HL7 control id and ACK$/m);
    expect(text().match(/ delivered {2}DiagnosticReport\/\S+ +delivered {2}\S{20} ACK \S+/g)).toHaveLength(3);
    expect(text()).toMatch(/^hl7v2: delivered: 3/m);
    expect(text()).toContain('HL7 receiver: 3 messages accepted, 3 received');
  });

  it('--targets fhir-documents pre-registers the patients in a documents-only store and files one DocumentReference per report', async () => {
    const { out, text } = capture();
    const result = await runDemo({ reports: 3, keep: false, out, targets: ['fhir-documents'] });
    expect(result.ok).toBe(true);
    expect(text()).toMatch(/^report\s+patient\s+status\s+FHIR DocumentReference$/m);
    expect(text().match(/ delivered {2}DocumentReference\/\S+$/gm)).toHaveLength(3);
    expect(text()).toMatch(/delivered: 3/);
  });

  it('refuses fhir and fhir-documents together: one embedded store cannot be in both modes', async () => {
    await expect(runDemo({ reports: 1, keep: false, out: capture().out, targets: ['fhir', 'fhir-documents'] })).rejects.toThrow(/cannot combine fhir and fhir-documents/);
  });

  it('closes the loop for orders: FHIR order -> Avara study -> signed report basedOn the order, on the same chart', async () => {
    const { out, text } = capture();
    const result = await runOrdersDemo({ orders: 3, keep: false, out });
    expect(result.ok).toBe(true);
    expect(text().match(/yes, same chart/g)).toHaveLength(3);
    expect(text()).toContain('3 of 3 orders came back');
  });
});
