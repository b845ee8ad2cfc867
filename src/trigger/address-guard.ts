// Where an untrusted http trigger may connect: resolve the host once, refuse any non-public address (unless the
// operator allowed it), and hand back the checked address so the connection goes there and nowhere else.
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (injectable: tests stub it to simulate DNS rebinding). */
export type ResolveHost = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, as node:http would use it): every address, in its order. */
export const systemResolve: ResolveHost = async (host) => {
  const all = await dnsLookup(host, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** What untrusted triggers may reach besides public addresses: `server.allowedHosts` (names, IPs, CIDRs). */
export interface AddressPolicy {
  allowedHosts: readonly string[];
  /** Default: the system resolver. */
  resolve?: ResolveHost;
}

/** A network and its prefix length: `['10.0.0.0', 8]` is 10.0.0.0/8. */
export type Subnet = readonly [network: string, prefix: number];

/**
 * Not public unicast IPv4: this network, private, CGNAT, loopback, link-local (cloud metadata lives at
 * 169.254.169.254), IETF protocol assignments, benchmarking, multicast, reserved and broadcast. The one table of
 * non-public IPv4 ranges: the trigger address guard and the HTTP server's host classification both use it.
 */
export const NON_PUBLIC_IPV4: readonly Subnet[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

/** A BlockList of the given IPv4 and IPv6 subnets (IPv4 rules also match IPv4-mapped IPv6 addresses). */
export function subnetList(v4: readonly Subnet[], v6: readonly Subnet[] = []): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
}

const V4 = subnetList(NON_PUBLIC_IPV4);

/** The 16 bytes of an IPv6 address (no zone), or undefined. Accepts a trailing dotted quad (`::ffff:1.2.3.4`). */
function v6Bytes(ip: string): number[] | undefined {
  let s = ip.toLowerCase();
  if (s.includes('%')) s = s.slice(0, s.indexOf('%'));
  let tail: number[] = [];
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    tail = (quad[1] as string).split('.').map(Number);
    s = `${s.slice(0, quad.index)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string) => (h === '' ? [] : h.split(':'));
  const head = part(halves[0] as string);
  const rest = halves.length === 2 ? part(halves[1] as string) : [];
  const fill = 8 - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    const n = Number.parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : undefined;
}

const allZero = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

/**
 * Why `ip` is not a public address a trigger may reach, or undefined when it is public. IPv6 forms that carry an
 * IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`) are refused whole:
 * a translator or the kernel may deliver them to the embedded (possibly private) IPv4 address.
 */
export function nonPublicReason(ip: string): string | undefined {
  const v = isIP(ip);
  if (v === 4) return V4.check(ip, 'ipv4') ? 'a loopback, private, link-local or reserved IPv4 address' : undefined;
  if (v !== 6) return 'not an IP address';
  const b = v6Bytes(ip);
  if (!b) return 'not an IP address';
  if (allZero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return 'an IPv4-mapped IPv6 address';
  if (allZero(b, 0, 12)) {
    if (allZero(b, 12, 15) && (b[15] === 0 || b[15] === 1)) return 'the unspecified or loopback IPv6 address';
    return 'an IPv4-compatible IPv6 address';
  }
  const w0 = ((b[0] as number) << 8) | (b[1] as number);
  const w1 = ((b[2] as number) << 8) | (b[3] as number);
  if (w0 === 0x64 && w1 === 0xff9b) return 'a NAT64 address (64:ff9b::/96, 64:ff9b:1::/48)';
  if (w0 === 0x2002) return 'a 6to4 address (it embeds an IPv4 address)';
  if ((w0 & 0xfe00) === 0xfc00) return 'a unique local IPv6 address (fc00::/7)';
  if ((w0 & 0xffc0) === 0xfe80 || (w0 & 0xffc0) === 0xfec0) return 'a link-local or site-local IPv6 address';
  if ((w0 & 0xff00) === 0xff00) return 'a multicast IPv6 address';
  if (w0 === 0x0100 && w1 === 0 && allZero(b, 4, 8)) return 'a discard-only IPv6 address (100::/64)';
  return undefined;
}

/** Lower case, no brackets, no trailing dot: how hosts are compared. */
export function normaliseHostName(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Whether `server.allowedHosts` lets a trigger to `host` reach `address` (by name, address or CIDR). */
function isAllowed(allowed: readonly string[], host: string, address: string): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  for (const raw of allowed) {
    const entry = normaliseHostName(raw);
    if (entry === host || entry === address) return true;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    const net = cidr?.[1];
    const v = net ? isIP(net) : 0;
    if (cidr && net && v) {
      const list = new BlockList();
      try {
        list.addSubnet(net, Number(cidr[2]), v === 6 ? 'ipv6' : 'ipv4');
        if (list.check(address, family)) return true;
      } catch {
        // A malformed CIDR allows nothing.
      }
    } else if (v && isIP(entry) === 6 && family === 'ipv6') {
      const a = v6Bytes(entry);
      const b = v6Bytes(address);
      if (a && b && a.every((x, i) => x === b[i])) return true;
    }
  }
  return false;
}

/** RFC 6761: `localhost` and `*.localhost` are loopback, whatever a resolver says. */
const isLocalhostName = (h: string) => h === 'localhost' || h.endsWith('.localhost');

/**
 * The part of checkHost that needs no resolver: why an IP-literal or localhost `hostname` is refused, or
 * undefined (a public literal, an allowed one, or a name, which only checkHost can judge).
 */
export function literalHostReason(hostname: string, allowedHosts: readonly string[]): string | undefined {
  const host = normaliseHostName(hostname);
  if (host === '') return 'the host is empty';
  const address = isIP(host) ? host : isLocalhostName(host) ? '127.0.0.1' : undefined;
  if (address === undefined) return undefined;
  const why = nonPublicReason(address);
  if (!why || isAllowed(allowedHosts, host, address)) return undefined;
  return `host '${host}' is ${isIP(host) ? why : 'a loopback name'}; list it in server.allowedHosts to allow triggers to it`;
}

export type HostCheck = { ok: true; address: ResolvedAddress } | { ok: false; reason: string; unresolved?: boolean };

/**
 * Resolves `hostname` (a URL hostname; an IP literal is taken as is), checks EVERY address it resolves to, and
 * returns the one to connect to. Refused when any address is not public and not allowed by `allowedHosts`
 * (a name with one private address among public ones could be answered with it on the next lookup). Never throws.
 */
export async function checkHost(hostname: string, policy: AddressPolicy): Promise<HostCheck> {
  const host = normaliseHostName(hostname);
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else if (isLocalhostName(host)) {
    addresses = [{ address: '127.0.0.1', family: 4 }];
  } else {
    try {
      addresses = await (policy.resolve ?? systemResolve)(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, unresolved: true, reason: `cannot resolve ${host}${code ? ` (${code})` : ''}` };
    }
    if (addresses.length === 0) return { ok: false, unresolved: true, reason: `${host} resolves to no address` };
  }
  for (const a of addresses) {
    const why = nonPublicReason(a.address);
    if (why && !isAllowed(policy.allowedHosts, host, a.address)) {
      const shown = a.address === host ? `'${host}'` : `'${host}' resolves to ${a.address}, which`;
      return {
        ok: false,
        reason: `host ${shown} is ${why}; list it in server.allowedHosts to allow triggers to it`,
      };
    }
  }
  return { ok: true, address: addresses[0] as ResolvedAddress };
}
