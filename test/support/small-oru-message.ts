import { Hl7Context, Hl7Message, Hl7Segment } from '@medplum/core';

/** A small ORU^R01 whose MSH-10 is `controlId`, built apart from the product's message builder. */
export function smallOruMessage(controlId: string, reportText = 'No acute findings.'): string {
  const context = new Hl7Context();
  const segment = (...fields: string[]) => new Hl7Segment(fields, context);
  return new Hl7Message(
    [
      segment('MSH', context.getMsh2(), 'AVARA', 'RAD', 'EHR', 'HOSP', '20250301101500+0000', '', 'ORU^R01^ORU_R01', controlId, 'P', '2.5.1',
        '', '', '', '', '', 'UNICODE UTF-8'),
      segment('PID', '1', '', 'MRN-TEST-1^^^HOSP^MR', '', 'Testperson^Alex'),
      segment('OBR', '1', 'ACC-1', 'STUDY-1', '^CT Chest', '', '', '20250301100000+0000'),
      segment('OBX', '1', 'FT', '18748-4^Diagnostic imaging study^LN', '', reportText, '', '', '', '', '', 'F'),
    ],
    context,
  ).toString();
}
