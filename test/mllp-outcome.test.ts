import { Hl7Message } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { classifyAck } from '../src/hl7/mllp-outcome.ts';

const ack = (...segments: string[]) => Hl7Message.parse(['MSH|^~\\&|EHR|HOSP|AVARA|RAD|20250301101500||ACK^R01^ACK|ACK-77|P|2.5.1', ...segments].join('\r'));

// Enhanced-mode commit codes read like their application-level twins (hl7v2-mapping.md, "Acknowledgments").
describe('classifyAck', () => {
  it('reads CA as accepted with the ACK\'s MSH-10', () => {
    expect(classifyAck(ack('MSA|CA|CTRL-1'))).toEqual({ kind: 'accepted', ackControlId: 'ACK-77' });
  });

  it('reads CR as retry_later', () => {
    expect(classifyAck(ack('MSA|CR|CTRL-1'))).toEqual({ kind: 'retry_later' });
  });

  it('reads CE as rejected with MSA-3 and every ERR segment\'s texts, each once', () => {
    const outcome = classifyAck(ack('MSA|CE|CTRL-1|Duplicate order', 'ERR|||205^Duplicate key identifier^HL70357|E||||Duplicate order', 'ERR|||101^Required field missing^HL70357|E|||PID-3 empty'));
    expect(outcome).toEqual({ kind: 'rejected', text: 'Duplicate order | Duplicate key identifier | Required field missing | PID-3 empty' });
  });

  it('reads an AE without any text as rejected with an empty text', () => {
    expect(classifyAck(ack('MSA|AE|CTRL-1'))).toEqual({ kind: 'rejected', text: '' });
  });

  it('reads a code outside HL7 table 0008 as rejected, for a person to look at', () => {
    expect(classifyAck(ack('MSA|OK|CTRL-1'))).toEqual({ kind: 'rejected', text: 'unrecognised acknowledgment code "OK"' });
  });
});
