/** What kind of trouble kept an answer from coming: what an operator checks first. */
export type NetworkCause = 'dns' | 'refused' | 'timeout' | 'tls' | 'reset' | 'network';

export interface NetworkFailure {
  /** Node's or undici's code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, ...), or TIMEOUT for our own deadline. */
  code: string;
  cause: NetworkCause;
  /** host:port tried: the address connected to when known (`10.1.2.3:443`), else the URL's (a name alone when only DNS knew it). Never a path or query. */
  where: string;
  /** `ECONNREFUSED 10.1.2.3:443`: what a delivery's lastError and a log line say. */
  text: string;
}

interface ErrorFields {
  name?: string;
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  cause?: unknown;
  errors?: unknown[];
}

/**
 * Why a fetch (or socket) to `url` got no answer, from the error chain Node builds: fetch's
 * "fetch failed" TypeError wraps the socket error, happy eyeballs an AggregateError of them.
 * "fetch failed" alone says nothing an operator can act on; this says which of DNS, a refused
 * port, a timeout or TLS, and where.
 */
export function describeNetworkFailure(error: unknown, url?: string | URL): NetworkFailure {
  const target = url === undefined ? undefined : typeof url === 'string' ? new URL(url) : url;
  const fallbackPort = target && (target.port || (target.protocol === 'https:' ? '443' : '80'));
  const found = innermostCoded(error);
  const timedOut = (error as ErrorFields | undefined)?.name === 'TimeoutError' || found?.code === 'UND_ERR_CONNECT_TIMEOUT' || found?.code === 'ETIMEDOUT';
  const code = timedOut ? 'TIMEOUT' : typeof found?.code === 'string' ? found.code : 'ECONNECT';
  const host = [found?.address, target?.hostname, found?.hostname].find((h): h is string => typeof h === 'string' && h !== '') ?? 'unknown host';
  const port = typeof found?.port === 'number' || typeof found?.port === 'string' ? String(found.port) : fallbackPort;
  const where = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${port ? `:${port}` : ''}`;
  return { code, cause: timedOut ? 'timeout' : causeOf(code), where, text: `${code} ${where}` };
}

/** The deepest error in the chain that carries a code (the socket's, not a wrapper's). */
function innermostCoded(error: unknown, depth = 0): ErrorFields | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const fields = error as ErrorFields;
  const deeper = innermostCoded(fields.cause, depth + 1) ?? (Array.isArray(fields.errors) ? innermostCoded(fields.errors[0], depth + 1) : undefined);
  return deeper ?? (typeof fields.code === 'string' ? fields : undefined);
}

export function causeOf(code: string): NetworkCause {
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NODATA') return 'dns';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ETIMEDOUT' || code === 'TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return 'reset';
  if (/^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|HOSTNAME_MISMATCH|EPROTO)/.test(code)) return 'tls';
  return 'network';
}
