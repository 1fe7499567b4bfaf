import type { ReceiverAckCode } from './build-receiver-ack.ts';

// Apart from the receiver, so the CLI can check --ack without loading the HL7 stack.

/** How the receiver answers: an ACK code, or `none` (it never answers). */
export type MllpAckMode = ReceiverAckCode | 'none';

export const MLLP_ACK_MODES: readonly MllpAckMode[] = ['AA', 'AE', 'AR', 'none'];
