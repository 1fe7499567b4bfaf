import { Hl7Message } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { buildHl7Message } from '../src/deliveries/targets/hl7v2/mapping/build-hl7-message.ts';
import { HL7_SCENARIOS, hl7Options } from './fixtures/hl7-scenarios.ts';
import { expectGoldenText } from './support/expect-golden.ts';

// Golden form: one segment per line (the message's \r segment separators written as \n, plus a
// final \n) so that a diff shows the segment that changed. Escaping guarantees a message never
// holds a raw line break of its own, so the form converts back exactly.
function toGoldenForm(text: string): string {
  return `${text.split('\r').join('\n')}\n`;
}

describe('HL7 v2 message golden files', () => {
  for (const scenario of HL7_SCENARIOS) {
    it(`builds ${scenario.title} as in test/golden/hl7/${scenario.golden}`, () => {
      const message = buildHl7Message(scenario.input(), hl7Options(scenario.options));
      expect(message.text).not.toMatch(/\n/);
      expectGoldenText(`hl7/${scenario.golden}`, toGoldenForm(message.text));
    });
  }

  it('writes messages that @medplum/core parses back to the same segments and bytes', () => {
    for (const scenario of HL7_SCENARIOS) {
      const message = buildHl7Message(scenario.input(), hl7Options(scenario.options));
      const parsed = Hl7Message.parse(message.text);
      expect(parsed.toString()).toBe(message.text);
      expect(parsed.getSegment('MSH')!.getField(10).toString()).toBe(message.controlId);
      expect(parsed.getSegment('MSH')!.getField(9).toString()).toBe(message.messageType);
    }
  });
});
