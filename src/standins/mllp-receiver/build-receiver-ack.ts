import { Hl7Field, type Hl7Message, Hl7Segment } from '@medplum/core';

export type ReceiverAckCode = 'AA' | 'AE' | 'AR';

/**
 * The receiver's answer to `message`: MSA-1 the code, MSA-2 the message's MSH-10, the ACK's own
 * MSH-10 `ackControlId`; an AE carries `errorText` in MSA-3 and an ERR segment, as engines do.
 * `errorText` goes in raw: a stand-in's test text, no delimiters.
 */
export function buildReceiverAck(message: Hl7Message, code: ReceiverAckCode, ackControlId: string, errorText: string): Hl7Message {
  const errSegment = code === 'AE'
    ? new Hl7Segment(['ERR', '', '', '207^Application internal error^HL70357', 'E', '', '', '', errorText], message.context)
    : undefined;
  const ack = message.buildAck({ ackCode: code, errSegment });
  // buildAck's MSH-10 is the clock in ms: two ACKs in one millisecond would share it.
  ack.getSegment('MSH')?.setField(10, ackControlId);
  if (code === 'AE') ack.getSegment('MSA')?.setField(3, new Hl7Field([[errorText]], message.context));
  return ack;
}

/** Rewrites MSA-2 so the ACK answers another message: a stray ACK the sender must ignore. */
export function readdressAck(ack: Hl7Message, otherControlId: string): Hl7Message {
  ack.getSegment('MSA')?.setField(2, otherControlId);
  return ack;
}
