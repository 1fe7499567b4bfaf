import type { Hl7Message } from '@medplum/core';

/**
 * What one MLLP send came to, as hl7v2-mapping.md's "Acknowledgments" table reads it. A return
 * value, not an error: the sender decides what the queue does with each kind.
 */
export type MllpOutcome =
  /** MSA-1 AA or CA and MSA-2 = our control id. `ackControlId` is the ACK's own MSH-10. */
  | { kind: 'accepted'; ackControlId: string }
  /** AR or CR: the receiver cannot take it now; the same message may go again later. */
  | { kind: 'retry_later' }
  /** AE or CE: the receiver refused this content. `text` is MSA-3 and ERR text: PHI-ish, never log it. */
  | { kind: 'rejected'; text: string }
  /** Sent, but no ACK for it came back: it may or may not have been committed. */
  | { kind: 'unknown'; reason: 'timeout' | 'closed' }
  /** Not sent, or not to a receiver that could have read it. `cause` names a code and host:port only. */
  | { kind: 'unreachable'; code: string; cause: string };

// A misbehaving receiver must not fill the delivery row: operators need the gist, not a dump.
const MAX_REJECTION_TEXT = 2000;

/** Reads an ACK that Hl7Connection already matched to our control id (MSA-2). */
export function classifyAck(ack: Hl7Message): MllpOutcome {
  const code = ack.getSegment('MSA')?.getField(1)?.toString().trim().toUpperCase() ?? '';
  if (code === 'AA' || code === 'CA') return { kind: 'accepted', ackControlId: ack.getSegment('MSH')?.getField(10)?.toString() ?? '' };
  if (code === 'AR' || code === 'CR') return { kind: 'retry_later' };
  if (code === 'AE' || code === 'CE') return { kind: 'rejected', text: rejectionText(ack) };
  // Not in HL7 table 0008: resending the same bytes to a receiver we do not understand will not
  // help, so a person looks, as for AE.
  return { kind: 'rejected', text: `unrecognised acknowledgment code ${JSON.stringify(code.slice(0, 8))}` };
}

/** MSA-3, then per ERR segment its error code text (ERR-3.2), diagnostics (ERR-7) and user message (ERR-8). */
function rejectionText(ack: Hl7Message): string {
  const parts = [ack.getSegment('MSA')?.getField(3)?.toString() ?? ''];
  for (const err of ack.getAllSegments('ERR')) {
    parts.push(err.getComponent(3, 2), err.getField(7)?.toString() ?? '', err.getField(8)?.toString() ?? '');
  }
  const distinct = [...new Set(parts.map((part) => part.trim()).filter((part) => part !== ''))];
  return distinct.join(' | ').slice(0, MAX_REJECTION_TEXT);
}
