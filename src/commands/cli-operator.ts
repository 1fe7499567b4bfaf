import { InvalidArgumentError } from 'commander';
import { userInfo } from 'node:os';
import { MAX_REASON_CHARS, readReason, type OperatorAction } from '../store/store.ts';

/**
 * `cli:<OS user>`: who ran a command that changes state. The account is what the operating
 * system says; a container running under a uid without a passwd entry falls back to $USER, then
 * the uid, so the audit row still says something true.
 */
export function cliOperator(env: NodeJS.ProcessEnv, readUsername: () => string = () => userInfo().username): string {
  let name: string | undefined;
  try {
    name = readUsername();
  } catch {
    // ENOENT from getpwuid: no passwd entry for this uid.
  }
  name ||= env.USER || env.LOGNAME || (process.getuid ? `uid-${process.getuid()}` : 'unknown');
  return `cli:${name}`;
}

/** The CLI's side of an action: `--reason`, and the OS user as the operator. */
export function cliAction(env: NodeJS.ProcessEnv, reason: string | undefined): OperatorAction {
  return { by: 'cli', operator: cliOperator(env), ...(reason ? { reason } : {}) };
}

/** commander parser for `--reason <text>`: trimmed, length-capped. */
export function parseReasonOption(value: string): string {
  const read = readReason(value);
  if (!read.ok) throw new InvalidArgumentError(read.message.replace(/^reason: /, ''));
  return read.reason ?? '';
}

export const REASON_OPTION_HELP = `why (free text, at most ${MAX_REASON_CHARS} characters): recorded in the audit row with the OS user, never logged`;
