import { readFileSync } from 'node:fs';
import type { Hl7Settings } from '../config/load-config.ts';
import { MllpConnectError, openMllpSocket, type MllpTlsOptions } from '../hl7/open-mllp-socket.ts';
import { fail, ok, type CheckResult } from './doctor-check.ts';

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The hl7v2 target: the certificate files can be read, and a TCP (and TLS) connection to the
 * interface engine opens. Nothing is sent: a test message would land in the engine's queue.
 */
export async function checkHl7Target(settings: Hl7Settings): Promise<CheckResult[]> {
  const where = `${settings.host}:${settings.port}`;
  let tls: MllpTlsOptions | undefined;
  try {
    tls = settings.tls && readTlsFiles(settings.tls);
  } catch (error) {
    return [fail('hl7v2 target', `cannot read ${(error as { path?: string }).path ?? 'a certificate file'} (${(error as { code?: string }).code ?? 'error'})`, 'check HL7_TLS_CA_FILE, HL7_TLS_CERT_FILE and HL7_TLS_KEY_FILE')];
  }
  try {
    const socket = await openMllpSocket({ host: settings.host, port: settings.port, tls, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    socket.destroy();
    return [ok('hl7v2 target', `${tls ? 'TLS' : 'TCP'} connection to ${where} opened (${settings.messageType}, MSH-5 ${settings.receivingApplication ?? '(empty)'}, MSH-11 ${settings.processingId})`)];
  } catch (error) {
    if (!(error instanceof MllpConnectError)) throw error;
    const fix = error.stage === 'tls'
      ? 'the engine refused the TLS handshake: check HL7_TLS_CA_FILE (its certificate\'s CA) and, for mutual TLS, that it trusts HL7_TLS_CERT_FILE'
      : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
        ? 'HL7_HOST does not resolve: check the name with the interface team'
        : 'check HL7_HOST/HL7_PORT, that the engine\'s MLLP listener runs, and the firewall between them';
    return [fail('hl7v2 target', error.message, fix)];
  }
}

/** The CA, certificate and key HL7_TLS_* name, read now (a missing file throws with its path). */
export function readTlsFiles(files: NonNullable<Hl7Settings['tls']>): MllpTlsOptions {
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file));
  const [ca, cert, key] = [read(files.caFile), read(files.certFile), read(files.keyFile)];
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}
