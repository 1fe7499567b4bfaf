import net from 'node:net';
import tls from 'node:tls';

export type MllpTlsOptions = {
  /** Trusted CA(s) for the receiver's certificate; the system's when absent. */
  ca?: string | Buffer;
  /** With `key`: our client certificate, for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
};

export type MllpEndpoint = {
  host: string;
  port: number;
  tls?: MllpTlsOptions;
  connectTimeoutMs: number;
};

/** Why no connection was made: a Node error code and where, never a payload. */
export class MllpConnectError extends Error {
  constructor(
    readonly code: string,
    readonly stage: 'tcp' | 'tls',
    endpoint: Pick<MllpEndpoint, 'host' | 'port'>,
  ) {
    super(`${stage === 'tls' ? 'TLS handshake failed' : 'cannot connect'} (${code}) to ${endpoint.host}:${endpoint.port}`);
    this.name = 'MllpConnectError';
  }
}

// An idle connection to an interface engine crosses firewalls that forget it silently; keepalive
// lets the kernel notice so the next send reconnects instead of waiting for an ACK timeout.
const KEEPALIVE_DELAY_MS = 30_000;

/**
 * A connected socket to the receiver: TCP, or TLS with the receiver verified against `tls.ca`
 * (mutual when a certificate and key are given). Rejects with an MllpConnectError.
 */
export function openMllpSocket(endpoint: MllpEndpoint): Promise<net.Socket> {
  const { host, port, connectTimeoutMs } = endpoint;
  const tlsOptions = endpoint.tls;
  return new Promise((resolve, reject) => {
    const socket = tlsOptions
      ? tls.connect({ host, port, ca: tlsOptions.ca, cert: tlsOptions.cert, key: tlsOptions.key })
      : net.connect({ host, port });
    let tcpConnected = false;
    const fail = (code: string) => {
      cleanUp();
      socket.destroy();
      reject(new MllpConnectError(code, tcpConnected && tlsOptions ? 'tls' : 'tcp', endpoint));
    };
    const onError = (error: Error) => fail(errorCode(error));
    const onTimeout = () => fail('ETIMEDOUT');
    const onClose = () => fail(tcpConnected ? 'ECONNRESET' : 'ECONNREFUSED');
    const onTcpConnect = () => (tcpConnected = true);
    const onReady = () => {
      cleanUp();
      socket.setTimeout(0);
      socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
      socket.setNoDelay(true);
      resolve(socket);
    };
    const cleanUp = () => {
      socket.off('error', onError).off('timeout', onTimeout).off('close', onClose).off('connect', onTcpConnect);
      socket.off(tlsOptions ? 'secureConnect' : 'connect', onReady);
    };
    socket.setTimeout(connectTimeoutMs);
    socket.on('error', onError).on('timeout', onTimeout).on('close', onClose).on('connect', onTcpConnect);
    socket.on(tlsOptions ? 'secureConnect' : 'connect', onReady);
  });
}

/** Node's code (ECONNREFUSED, ENOTFOUND, SELF_SIGNED_CERT_IN_CHAIN, ...); happy eyeballs wraps them in an AggregateError. */
export function errorCode(error: unknown): string {
  const { code, errors } = error as { code?: unknown; errors?: unknown[] };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return 'ECONNECT';
}
