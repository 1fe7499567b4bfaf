import { SyncError, type ErrorCode } from '../../errors.ts';

/**
 * The EHR's data cannot make an Avara study (no UID, no MRN, no order): permanent until someone
 * fixes the record, which changes its version and queues the order again. Messages name the
 * element, never its value.
 */
export function orderDataError(code: Extract<ErrorCode, `order_${string}`>, message: string): SyncError {
  return SyncError.permanent(code, message);
}
