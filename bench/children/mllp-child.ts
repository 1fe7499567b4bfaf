import { startMllpReceiver } from '../../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { serveRpc } from '../child-rpc.ts';
import { pinSelfAsEhr } from '../pin-cores.ts';

// The embedded MLLP receiver (answers AA) in a process of its own, as a hospital's interface
// engine would be: the bare sender and serve both send into a fresh one, over loopback TCP.
// On the EHR's core when the run is pinned, like the FHIR store: it stands for the hospital's side.
pinSelfAsEhr();
const receiver = await startMllpReceiver({ port: 0 });

export interface MllpReceiverCounts {
  received: number;
  /** Distinct control ids accepted (AA): equal to `received` when nothing was sent twice. */
  accepted: number;
  connections: number;
  /** Mean length of the received messages' text (ER7, as the receiver parsed them), in bytes. */
  meanMessageBytes: number;
  /** Mean ms from one ACK leaving to the next message parsed: the sender's turn plus the transfer and parse. */
  meanGapMs: number;
}

serveRpc(receiver.address, {
  counts: (): MllpReceiverCounts => {
    const received = receiver.received();
    let bytes = 0;
    let gapMs = 0;
    let gaps = 0;
    for (let i = 0; i < received.length; i++) {
      bytes += Buffer.byteLength(received[i]!.text);
      const previous = received[i - 1]?.answeredAt;
      if (previous) {
        gapMs += received[i]!.receivedAt.getTime() - previous.getTime();
        gaps += 1;
      }
    }
    return {
      received: received.length,
      accepted: receiver.acceptedContents().length,
      connections: receiver.connectionsAccepted(),
      meanMessageBytes: received.length ? bytes / received.length : 0,
      meanGapMs: gaps ? gapMs / gaps : 0,
    };
  },
});
