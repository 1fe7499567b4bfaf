import { createHmac } from 'node:crypto';

/** What is stored and searched for an MRN: surrounding spaces do not count, case does. */
export function hashMrn(key: Buffer, mrn: string): string {
  return createHmac('sha256', key).update(mrn.trim()).digest('hex');
}
