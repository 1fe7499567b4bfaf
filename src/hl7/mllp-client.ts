import { Hl7Message } from '@medplum/core';
import { classifyAck, type MllpOutcome } from './mllp-outcome.ts';
import { type MllpConnection, wrapMllpSocket } from './mllp-connection.ts';
import { connectBackoffMs } from './connect-backoff.ts';
import { MllpConnectError, type MllpTlsOptions, openMllpSocket } from './open-mllp-socket.ts';

export type MllpLog = {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
};

export type MllpClientOptions = {
  host: string;
  port: number;
  tls?: MllpTlsOptions;
  ackTimeoutMs: number;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** After the n-th connect failure in a row, no new attempt for min(maxMs, initialMs * 2^(n-1)). Default 1 s / 30 s. */
  connectBackoff?: { initialMs: number; maxMs: number };
  log?: MllpLog;
};

export type MllpClient = {
  /** Sends one message (its MSH-10 must be `controlId`) and waits for its ACK; never throws for the receiver's sake. */
  send(messageText: string, controlId: string): Promise<MllpOutcome>;
  /** Closes the connection; a send in flight ends `unknown`/`closed`, later ones `unreachable`. */
  close(): Promise<void>;
};

type Unreachable = Extract<MllpOutcome, { kind: 'unreachable' }>;

const silent: MllpLog = { debug() {}, warn() {} };

/** A client for one interface engine: one connection, one message in flight on it, kept open between sends. */
export function createMllpClient(options: MllpClientOptions): MllpClient {
  const endpoint = { host: options.host, port: options.port, tls: options.tls, connectTimeoutMs: options.connectTimeoutMs ?? 10_000 };
  const backoff = options.connectBackoff ?? { initialMs: 1000, maxMs: 30_000 };
  const log = options.log ?? silent;
  const where = `${options.host}:${options.port}`;
  const clientClosed: Unreachable = { kind: 'unreachable', code: 'ERR_CLIENT_CLOSED', cause: `MLLP client for ${where} is closed` };
  let connection: MllpConnection | undefined;
  let closing = false;
  let failuresInARow = 0;
  let lastFailure: { code: string; cause: string; at: number } | undefined;
  // Original-mode MLLP has one message in flight per connection: a receiver may answer in any
  // order or not at all, so the next message waits for this one's ACK (or its end).
  let tail: Promise<unknown> = Promise.resolve();

  async function connectionForSend(): Promise<MllpConnection | Unreachable> {
    if (closing) return clientClosed;
    if (connection?.isOpen()) return connection;
    connection = undefined;
    // Many queued deliveries would otherwise each wait out a connect timeout against a dead host.
    const waitMs = lastFailure ? lastFailure.at + connectBackoffMs(failuresInARow, backoff) - Date.now() : 0;
    if (lastFailure && waitMs > 0) {
      return { kind: 'unreachable', code: lastFailure.code, cause: `${lastFailure.cause}; next attempt in ${waitMs} ms` };
    }
    try {
      const opened = wrapMllpSocket(await openMllpSocket(endpoint));
      if (closing) {
        await opened.close();
        return clientClosed;
      }
      connection = opened;
      failuresInARow = 0;
      lastFailure = undefined;
      log.debug({ hl7Endpoint: where, tls: Boolean(endpoint.tls) }, 'MLLP connection opened');
      return opened;
    } catch (error) {
      if (!(error instanceof MllpConnectError)) throw error;
      return recordConnectFailure(error.code, error.message);
    }
  }

  function recordConnectFailure(code: string, cause: string): Unreachable {
    failuresInARow += 1;
    lastFailure = { code, cause, at: Date.now() };
    log.warn({ hl7Endpoint: where, code, failuresInARow }, 'MLLP receiver unreachable');
    return { kind: 'unreachable', code, cause };
  }

  async function sendNow(message: Hl7Message): Promise<MllpOutcome> {
    const open = await connectionForSend();
    if (!('sendAndAwaitAck' in open)) return open;
    const wait = await open.sendAndAwaitAck(message, options.ackTimeoutMs);
    if (wait.kind === 'ack') return classifyAck(wait.ack);
    if (connection === open) connection = undefined;
    if (wait.kind === 'timeout') {
      // A receiver silent for the whole timeout may be wedged on this connection; its late ACK
      // would be ignored anyway (another control id by then), so the next send starts afresh.
      await open.close();
      return { kind: 'unknown', reason: 'timeout' };
    }
    // TLS 1.3 finishes the client's handshake before the server checks our certificate, so a
    // refused client certificate shows up as an alert after we wrote. The receiver never had a
    // session to read the message in: not sent, like a refused connection.
    if (wait.socketErrorCode && /^ERR_SSL_.*ALERT/.test(wait.socketErrorCode) && open.acksReceived() === 0) {
      return recordConnectFailure(wait.socketErrorCode, `TLS handshake failed (${wait.socketErrorCode}) to ${where}`);
    }
    return { kind: 'unknown', reason: 'closed' };
  }

  return {
    async send(messageText, controlId) {
      const message = Hl7Message.parse(messageText);
      const mshControlId = message.getSegment('MSH')?.getField(10)?.toString();
      // sendAndWait matches ACKs on MSH-10; a caller recording another id would record a lie.
      if (mshControlId !== controlId) throw new Error(`MSH-10 of the message is not the control id ${controlId}`);
      const result = tail.then(async () => {
        const outcome = await sendNow(message);
        log.debug({ controlId, outcome: outcome.kind, ...('reason' in outcome ? { reason: outcome.reason } : {}) }, 'MLLP send finished');
        return outcome;
      });
      tail = result.catch(() => undefined);
      return result;
    },
    async close() {
      closing = true;
      await connection?.close();
      connection = undefined;
      await tail;
    },
  };
}
