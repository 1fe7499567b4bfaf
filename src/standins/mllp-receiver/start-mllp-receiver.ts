import type { Hl7Message } from '@medplum/core';
import { Hl7Connection } from '@medplum/hl7';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { buildReceiverAck, readdressAck, type ReceiverAckCode } from './build-receiver-ack.ts';
import type { MllpAckMode } from './mllp-ack-modes.ts';

const STRAY_GAP_MS = 50;
const STOP_GRACE_MS = 2000;

export { MLLP_ACK_MODES, type MllpAckMode } from './mllp-ack-modes.ts';

export type StartMllpReceiverOptions = {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** Default AA. */
  ack?: MllpAckMode;
  /** MSA-3 and ERR-8 of an AE. Default "Application Error". */
  errorText?: string;
  /** MLLP over TLS; `ca` given: clients must present a certificate it signed (mutual TLS). */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /** Called for each message as it is kept, before it is answered. */
  onReceived?: (message: ReceivedMessage) => void;
};

export type ReceivedMessage = {
  controlId: string;
  /** MSH-9, e.g. ORU^R01^ORU_R01. */
  messageType: string;
  text: string;
  receivedAt: Date;
  /** The mode in force when it arrived (what it was, or would have been, answered). */
  ack: MllpAckMode;
  /** When its ACK left; absent while delayed, or when it was never answered. */
  answeredAt?: Date;
};

export type MllpReceiver = {
  address: { host: string; port: number };
  received(): readonly ReceivedMessage[];
  /** Distinct control ids received in AA mode, as a receiver that drops repeated control ids commits them. */
  acceptedContents(): string[];
  /** Connections accepted so far (a sender that keeps its connection open makes one). */
  connectionsAccepted(): number;
  setAck(mode: MllpAckMode, options?: { errorText?: string }): void;
  /** The next `times` messages are kept (and accepted in AA mode), then their connection is cut without an answer. */
  commitThenDrop(times: number): void;
  /** Every answer waits this long (0 turns it off). */
  delayAcksMs(ms: number): void;
  /** Before answering each of the next `times` messages, send an ACK for another control id. */
  strayAckBeforeNext(times: number): void;
  /** Stops listening and closes open connections (cut after 2 s when a peer does not close its side). */
  stop(): Promise<void>;
};

/** The stand-in for a hospital interface engine's MLLP listener, for the demo, the CLI and the tests. */
export async function startMllpReceiver(options: StartMllpReceiverOptions = {}): Promise<MllpReceiver> {
  const host = options.host ?? '127.0.0.1';
  let mode = options.ack ?? 'AA';
  let errorText = options.errorText ?? 'Application Error';
  let drops = 0;
  let strays = 0;
  let delayMs = 0;
  let connections = 0;
  let ackSeq = 0;
  // Unique across receivers and restarts, so an ACK's MSH-10 names one answer; <= 20 characters.
  const ackPrefix = `A${randomBytes(4).toString('hex')}`;
  const received: ReceivedMessage[] = [];
  const accepted = new Set<string>();
  const sockets = new Set<net.Socket>();

  const onMessage = (connection: Hl7Connection, message: Hl7Message) => {
    const msh = message.getSegment('MSH');
    const entry: ReceivedMessage = {
      controlId: msh?.getField(10)?.toString() ?? '',
      messageType: msh?.getField(9)?.toString() ?? '',
      text: message.toString(),
      receivedAt: new Date(),
      ack: mode,
    };
    received.push(entry);
    if (entry.ack === 'AA') accepted.add(entry.controlId);
    options.onReceived?.(entry);
    if (drops > 0) {
      drops -= 1;
      connection.socket.destroy();
      return;
    }
    const code = entry.ack;
    if (code === 'none') return;
    const answer = () => {
      if (connection.isClosed()) return;
      entry.answeredAt = new Date();
      connection.send(buildReceiverAck(message, code, nextAckId(), errorText));
    };
    const answerAfterMs = (ms: number) => (ms > 0 ? setTimeout(answer, ms) : answer());
    if (strays > 0) {
      strays -= 1;
      connection.send(readdressAck(buildReceiverAck(message, 'AA', nextAckId(), errorText), `${entry.controlId}-OTHER`));
      // Hl7Connection finds a frame's end only at the end of a read: two ACKs arriving in one
      // TCP segment would read as one message, so the real answer leaves a moment later.
      answerAfterMs(Math.max(delayMs, STRAY_GAP_MS));
    } else {
      answerAfterMs(delayMs);
    }
  };
  const nextAckId = () => `${ackPrefix}${String((ackSeq += 1)).padStart(6, '0')}`;

  const onSocket = (socket: net.Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const connection = new Hl7Connection(socket);
    connection.addEventListener('message', (event) => onMessage(connection, event.message));
  };
  const server = options.tls
    ? tls.createServer({ ...options.tls, requestCert: Boolean(options.tls.ca), rejectUnauthorized: Boolean(options.tls.ca) }, onSocket)
    : net.createServer(onSocket);
  // A client that fails the handshake is the client's problem; the receiver keeps listening.
  server.on('tlsClientError', () => {});
  await listen(server, options.port ?? 0, host);

  return {
    address: { host, port: (server.address() as net.AddressInfo).port },
    received: () => received,
    acceptedContents: () => [...accepted],
    connectionsAccepted: () => connections,
    setAck(next, setOptions = {}) {
      mode = next;
      errorText = setOptions.errorText ?? errorText;
    },
    commitThenDrop: (times) => (drops += times),
    delayAcksMs: (ms) => (delayMs = Math.max(0, ms)),
    strayAckBeforeNext: (times) => (strays += times),
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Like an engine shutting down cleanly: a FIN first, so a sender sees the connection end
      // before it writes the next message into it; a peer that never closes its side is cut.
      for (const socket of sockets) socket.end();
      const cut = setTimeout(() => sockets.forEach((socket) => socket.destroy()), STOP_GRACE_MS);
      await closed;
      clearTimeout(cut);
    },
  };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
