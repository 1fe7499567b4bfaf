import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { createMllpClient } from '../src/hl7/mllp-client.ts';
import { runCli } from './support/run-cli.ts';
import { smallOruMessage } from './support/small-oru-message.ts';

describe('avara-fhir-sync hl7-receiver', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  /** Starts the command and reads the one JSON line it prints when it listens. */
  const startReceiverCommand = async (...args: string[]) => {
    child = spawn(process.execPath, ['src/cli-entry.mjs', 'hl7-receiver', ...args], { env: { PATH: process.env.PATH ?? '' } });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    return { address: JSON.parse(String(first.value)) as { host: string; port: number }, lines, exited, process: child };
  };

  it('prints its address as one JSON line, answers a message with AA and stops on SIGTERM', async () => {
    const receiver = await startReceiverCommand('--port', '0');
    expect(receiver.address).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
    const client = createMllpClient({ ...receiver.address, ackTimeoutMs: 10_000 });
    expect(await client.send(smallOruMessage('CTRL-CLI-1'), 'CTRL-CLI-1')).toMatchObject({ kind: 'accepted' });
    await client.close();
    const logLine = JSON.parse(String((await receiver.lines.next()).value)) as Record<string, unknown>;
    expect(logLine).toMatchObject({ msg: 'HL7 message received', controlId: 'CTRL-CLI-1', messageType: 'ORU^R01^ORU_R01', ack: 'AA' });
    receiver.process.kill('SIGTERM');
    expect(await receiver.exited).toBe(0);
  });

  it('answers with the mode --ack names', async () => {
    const receiver = await startReceiverCommand('--port', '0', '--ack', 'AR');
    const client = createMllpClient({ ...receiver.address, ackTimeoutMs: 10_000 });
    expect(await client.send(smallOruMessage('CTRL-CLI-2'), 'CTRL-CLI-2')).toEqual({ kind: 'retry_later' });
    await client.close();
  });

  it('exits 1 naming the option when --ack is not a mode', async () => {
    const result = await runCli(['hl7-receiver', '--port', '0', '--ack', 'OK'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('must be AA, AE, AR or none');
  });
});
