// Listen addresses of the HTTP server: parsing `host:port`, URLs, loopback checks, and the address a name binds.
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InterlockError } from '../core/errors.js';

/** Where the server listens. `host` has no brackets (IPv6 as `::1`). */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Parses `host:port`, `[v6]:port` or `:port` (all interfaces, 0.0.0.0). Port 0 asks for a free port.
 * @throws InterlockError USAGE with what was wrong.
 */
export function parseListenAddress(addr: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new InterlockError(
      'USAGE',
      `invalid listen address '${addr}' (expected host:port, [ipv6]:port or :port, e.g. 127.0.0.1:3000)`,
    );
  }
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && isIP(m[1]) !== 6) {
    throw new InterlockError('USAGE', `invalid listen address '${addr}': '${m[1]}' is not an IPv6 address`);
  }
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** `http://host:port` for humans and clients (IPv6 in brackets). */
export function formatUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** Strips the brackets of `[v6]`, a trailing dot, and lower-cases: the form every check below compares. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function isLocalhostName(h: string): boolean {
  return h === 'localhost' || h.endsWith('.localhost');
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for 127.0.0.0/8, ::1 (and IPv4-mapped forms) and localhost names: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = normaliseHost(host);
  if (isLocalhostName(h)) return true;
  const v = isIP(h);
  return v === 4 ? LOOPBACK.check(h, 'ipv4') : v === 6 ? LOOPBACK.check(h, 'ipv6') : false;
}

/** Name → address, as `dns.lookup` answers (injectable so tests need not edit /etc/hosts). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }>;

/** The system resolver, as `server.listen(port, name)` would use it (first address). */
export const systemLookup: HostLookup = (hostname) => dnsLookup(hostname);

/**
 * The address to bind for `host`: an IP literal as is, a name resolved once through `lookup`, so that what is checked
 * is what is bound. @throws InterlockError IO_ERROR when the name does not resolve.
 */
export async function resolveBindAddress(host: string, lookup: HostLookup = systemLookup): Promise<string> {
  const h = normaliseHost(host);
  if (isIP(h) !== 0) return h;
  try {
    return normaliseHost((await lookup(h)).address);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InterlockError(
      'IO_ERROR',
      `cannot listen on '${host}': the name does not resolve (${code ?? String(err)})`,
      {
        cause: err,
      },
    );
  }
}
