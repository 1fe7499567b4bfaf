import type { NetworkCause } from '../upstream/network-failure.ts';

/** One look at whether a delivery target answers, as readyz and the start-up warning say it. */
export interface Reachability {
  reachable: boolean;
  /**
   * `ok`, or what failed: the network's dns, refused, timeout, tls, reset, network; `auth` (401 or
   * 403, or the token endpoint refused us); `http` (another status); `config` (a key or
   * certificate file we could not read).
   */
  cause: 'ok' | NetworkCause | 'auth' | 'http' | 'config';
  /** host:port looked at; never a path, query or credential. */
  endpoint: string;
  /** The code or status behind `cause`: ECONNREFUSED, ENOTFOUND, 401, 503, ... */
  detail: string;
}

export function hostPort(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
}
