import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { forkRpcChild } from '../child-rpc.ts';
import { cpuMs } from '../process-cpu.ts';
import type { MllpReceiverCounts } from '../children/mllp-child.ts';

export interface BareMllpRun {
  perSec: number;
  receiver: MllpReceiverCounts;
  /** CPU time per message of the sender (this process) and of the receiver. */
  cpuMsPerMessage: { sender: number; receiver: number };
}

/**
 * The ceiling for the HL7 target: the simplest correct MLLP sender, @medplum/hl7's Hl7Client
 * on one connection, sending the prepared messages one at a time, each only after the previous
 * one's ACK (AA), into a fresh embedded receiver in its own process. The messages are parsed
 * before the clock starts, as the FHIR ceiling posts bundles serialized beforehand.
 */
export async function measureBareMllp(texts: string[]): Promise<BareMllpRun> {
  const messages = texts.map((text) => Hl7Message.parse(text));
  const receiver = await forkRpcChild<{ host: string; port: number }>('mllp-child.ts');
  const client = new Hl7Client({ host: receiver.info.host, port: receiver.info.port });
  try {
    // Connected before the clock starts, with Nagle off like the product's socket.
    (await client.connect()).socket.setNoDelay(true);
    const cpuBefore = { sender: cpuMs(process.pid), receiver: cpuMs(receiver.pid) };
    const started = performance.now();
    for (const [index, message] of messages.entries()) {
      // No timeoutMs: @medplum/hl7 4.5.2 never clears that timer once the ACK came, so each
      // would hold the event loop for its whole length. The receiver always answers here.
      const ack = await client.sendAndWait(message);
      const code = ack.getSegment('MSA')?.getField(1)?.toString();
      if (code !== 'AA') throw new Error(`the receiver answered ${code} to message ${index}`);
    }
    const seconds = (performance.now() - started) / 1000;
    const n = messages.length;
    const cpuMsPerMessage = { sender: (cpuMs(process.pid) - cpuBefore.sender) / n, receiver: (cpuMs(receiver.pid) - cpuBefore.receiver) / n };
    const counts = await receiver.call<MllpReceiverCounts>('counts');
    if (counts.accepted !== n) throw new Error(`the receiver accepted ${counts.accepted} of ${n} messages`);
    return { perSec: n / seconds, receiver: counts, cpuMsPerMessage };
  } finally {
    await client.close();
    await receiver.stop();
  }
}
