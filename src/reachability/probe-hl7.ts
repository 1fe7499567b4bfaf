import type { Hl7Settings } from '../config/load-config.ts';
import { readTlsFiles } from '../doctor/check-hl7.ts';
import { MllpConnectError, openMllpSocket, type MllpTlsOptions } from '../hl7/open-mllp-socket.ts';
import { causeOf } from '../upstream/network-failure.ts';
import type { Reachability } from './reachability.ts';

const CONNECT_TIMEOUT_MS = 5_000;

/** The `hl7v2` target: a TCP (and TLS) connection opens, as doctor checks it. Nothing is sent. */
export async function probeHl7Engine(settings: Hl7Settings): Promise<Reachability> {
  const endpoint = `${settings.host}:${settings.port}`;
  let tls: MllpTlsOptions | undefined;
  try {
    tls = settings.tls && readTlsFiles(settings.tls);
  } catch (error) {
    return { reachable: false, cause: 'config', endpoint, detail: (error as { code?: string }).code ?? 'HL7_TLS files' };
  }
  try {
    const socket = await openMllpSocket({ host: settings.host, port: settings.port, tls, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    socket.destroy();
    return { reachable: true, cause: 'ok', endpoint, detail: tls ? 'TLS' : 'TCP' };
  } catch (error) {
    if (!(error instanceof MllpConnectError)) throw error;
    return { reachable: false, cause: error.stage === 'tls' ? 'tls' : causeOf(error.code), endpoint, detail: error.code };
  }
}
