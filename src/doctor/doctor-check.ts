export type CheckLevel = 'OK' | 'WARN' | 'FAIL';

export interface CheckResult {
  name: string;
  level: CheckLevel;
  detail: string;
  /** What to do about a WARN or FAIL. */
  fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, level: 'OK', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, level: 'WARN', detail, fix });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, level: 'FAIL', detail, fix });

export function formatCheck(result: CheckResult): string {
  return `${result.level.padEnd(4)} ${result.name}: ${result.detail}${result.fix ? ` -> ${result.fix}` : ''}`;
}

/** Reason of a fetch that got no answer, without the URL (it may carry a token). */
export function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const code = (error as { cause?: { code?: string } })?.cause?.code;
  return code ?? 'connection failed';
}
