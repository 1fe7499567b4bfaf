import type { Hl7Message } from '@medplum/core';
import { Hl7Connection } from '@medplum/hl7';
import type net from 'node:net';
import { errorCode } from './open-mllp-socket.ts';

/** How the wait for one ACK ended. `socketErrorCode`: the error the socket closed with, if any. */
export type AckWait =
  | { kind: 'ack'; ack: Hl7Message }
  | { kind: 'timeout' }
  | { kind: 'closed'; socketErrorCode?: string };

/** One open MLLP connection: Hl7Connection frames and matches ACKs; this adds what it lacks. */
export type MllpConnection = {
  isOpen(): boolean;
  /** ACKs received that matched a message of ours, so far. */
  acksReceived(): number;
  sendAndAwaitAck(message: Hl7Message, ackTimeoutMs: number): Promise<AckWait>;
  close(): Promise<void>;
};

export function wrapMllpSocket(socket: net.Socket): MllpConnection {
  const connection = new Hl7Connection(socket);
  let lastErrorCode: string | undefined;
  let acks = 0;
  socket.on('error', (error) => (lastErrorCode = errorCode(error)));
  const closed = new Promise<AckWait>((resolve) => socket.once('close', () => resolve({ kind: 'closed', socketErrorCode: lastErrorCode })));

  return {
    // The peer's FIN (readableEnded) already means the next message would go nowhere.
    isOpen: () => !socket.destroyed && socket.writable && !socket.readableEnded,
    acksReceived: () => acks,
    async sendAndAwaitAck(message, ackTimeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<AckWait>((resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout' }), ackTimeoutMs)));
      // sendAndWait resolves on the first ACK whose MSA-2 is this message's MSH-10 and ignores
      // ACKs for other control ids. It rejects only when we close(): a peer's close leaves it
      // pending forever, hence the race with `closed`. Its own timeoutMs is not used, so no
      // timer of the library outlives this connection.
      const acked = connection.sendAndWait(message).then(
        (ack): AckWait => {
          acks += 1;
          return { kind: 'ack', ack };
        },
        (): AckWait => ({ kind: 'closed', socketErrorCode: lastErrorCode }),
      );
      try {
        return await Promise.race([acked, closed, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => connection.close(),
  };
}
