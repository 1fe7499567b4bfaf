import type { Hl7Segment } from '@medplum/core';
import { buildSegment } from './build-segment.ts';
import type { Hl7MessageOptions, Hl7MessageType } from './hl7-message-input.ts';

/**
 * MSH of one message. `time` (MSH-7) and `controlId` (MSH-10) are the two fields left out of the
 * content hash, so they are given as '' when hashing. MSH-15/16 stay empty: original
 * acknowledgment mode, one ACK per message.
 */
export function buildMsh(
  options: Hl7MessageOptions,
  messageType: Hl7MessageType,
  stamp: { time: string; controlId: string },
): Hl7Segment {
  return buildSegment('MSH', {
    3: options.sendingApplication,
    4: options.sendingFacility,
    5: options.receivingApplication,
    6: options.receivingFacility,
    7: stamp.time,
    9: messageType.split('^'),
    10: stamp.controlId,
    11: options.processingId,
    12: '2.5.1',
    18: 'UNICODE UTF-8',
  });
}
