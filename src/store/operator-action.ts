/**
 * Who took an action, through which door, and why: recorded in the detail of the audit row the
 * action writes, in the same transaction.
 */
export interface OperatorAction {
  /** The door: `api`, `audit_page` or `cli`. */
  by: string;
  /** An ADMIN_TOKENS name, `admin` (ADMIN_TOKEN), or `cli:<OS user>`. */
  operator: string;
  /** The operator's own words. Free text may name a patient: kept in the audit detail only, never logged. */
  reason?: string;
}

// A sentence or two ("EHR back after maintenance, INC-4411"), not a note field.
export const MAX_REASON_CHARS = 500;

/** A reason as sent (form field, JSON, CLI option): trimmed, empty as none, refused when too long or not text. */
export function readReason(value: unknown): { ok: true; reason: string | undefined } | { ok: false; message: string } {
  if (value === undefined || value === null) return { ok: true, reason: undefined };
  if (typeof value !== 'string') return { ok: false, message: 'reason: must be text' };
  const reason = value.trim();
  if ([...reason].length > MAX_REASON_CHARS) return { ok: false, message: `reason: must be at most ${MAX_REASON_CHARS} characters` };
  return { ok: true, reason: reason === '' ? undefined : reason };
}

export function operatorActionDetail(action: OperatorAction): Record<string, string> {
  return { by: action.by, operator: action.operator, ...(action.reason === undefined ? {} : { reason: action.reason }) };
}
