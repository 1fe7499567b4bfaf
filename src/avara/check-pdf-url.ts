import { isIPv4 } from 'node:net';
import { SyncError } from '../errors.ts';

/**
 * PDF_ALLOWED_HOSTS (design.md): a presigned link must point at an allowed host; an entry without
 * ":port" matches any port. https is required except on loopback. A link elsewhere is never
 * fetched: it would send a request, and perhaps patient data, wherever a payload points.
 */
export function checkPdfUrl(rawUrl: string, allowedHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw SyncError.permanent('pdf_host_not_allowed', 'PDF link is not a valid URL');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(host))) {
    throw SyncError.permanent('pdf_host_not_allowed', `PDF link to ${host} must use https`);
  }
  if (!allowedHosts.some((entry) => matchesEntry(entry, host, port))) {
    throw SyncError.permanent('pdf_host_not_allowed', `PDF link host ${host} is not in PDF_ALLOWED_HOSTS`);
  }
  return url;
}

/**
 * `host` as the WHATWG URL parser leaves it (brackets removed): it has already turned decimal,
 * octal, hex and short IPv4 forms into dotted decimal and IPv6 into its compressed lower-case
 * hex form, so each loopback address has exactly one spelling here. All of 127.0.0.0/8 is
 * loopback (RFC 1122), and so is its IPv4-mapped form ::ffff:7f00:0/104, which the parser writes
 * as ::ffff:7fXX:XXXX.
 */
function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
}

function matchesEntry(entry: string, host: string, port: string): boolean {
  const { entryHost, entryPort } = parseEntry(entry.trim().toLowerCase());
  return entryHost === host && (entryPort === undefined || entryPort === port);
}

/** "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
function parseEntry(entry: string): { entryHost: string; entryPort: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { entryHost: bracketed[1]!, entryPort: bracketed[2] };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort) return { entryHost: withPort[1]!, entryPort: withPort[2] };
  return { entryHost: entry, entryPort: undefined };
}
