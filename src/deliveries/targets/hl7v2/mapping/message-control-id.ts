import { createHash } from 'node:crypto';

// HL7 2.5.1 MSH-10 is an ST of at most 20 characters.
const STUDY_PART_LENGTH = 8;
const HASH_PART_LENGTH = 12;

/** SHA-256 (hex) of the message as sent but for MSH-7 and MSH-10, which the caller leaves empty. */
export function messageContentHash(messageWithoutStamp: string): string {
  return createHash('sha256').update(messageWithoutStamp, 'utf8').digest('hex');
}

/**
 * MSH-10: the first 8 hex digits of the study id, then the first 12 of the content hash (20 in
 * all). The same content always gets the same id, so a receiver that drops repeated control ids
 * drops a resend, and new content gets a new one. The study part lets a person find the study from
 * an engine's log; the two parts together leave 80 bits against two messages sharing an id.
 */
export function messageControlId(studyId: string, contentHash: string): string {
  const studyPart = studyId.replace(/^stu_/, '').replace(/[^0-9A-Za-z]/g, '').slice(0, STUDY_PART_LENGTH);
  return `${studyPart}${contentHash.slice(0, HASH_PART_LENGTH)}`.toLowerCase();
}
