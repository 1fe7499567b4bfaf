import { formatCheck } from '../../src/doctor/doctor-check.ts';
import { runDoctor } from '../../src/doctor/run-doctor.ts';
import type { CliResult } from './run-cli.ts';

/**
 * `doctor` without a child process, for tests of what it checks: what the command's action does
 * (src/cli.ts), one formatted line per check on stdout and exit code 1 on any FAIL, given the
 * environment runCli gives a child. A child costs a second or two of CPU to start; each doctor
 * test file keeps real `doctor` children for the process itself (exit code, stderr, secrets).
 */
export async function runDoctorInProcess(env: Record<string, string>): Promise<CliResult> {
  let stdout = '';
  const passed = await runDoctor({ PATH: process.env.PATH ?? '', ...env }, (result) => {
    stdout += `${formatCheck(result)}\n`;
  });
  return { code: passed ? 0 : 1, stdout, stderr: '' };
}
