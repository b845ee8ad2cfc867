import { describe, expect, it } from 'vitest';
import { formatUrl, isLoopbackHost, isPrivateHost, parseListenAddress } from './server-address.js';

describe('parseListenAddress', () => {
  it('host:port, [v6]:port and :port (all interfaces)', () => {
    expect(parseListenAddress('127.0.0.1:3000')).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(parseListenAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListenAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListenAddress(':3000')).toEqual({ host: '0.0.0.0', port: 3000 });
  });
  it('refuses anything else with USAGE', () => {
    for (const bad of ['3000', 'host', '127.0.0.1:', '127.0.0.1:65536', '::1:80', '[1.2.3.4]:80', 'a:b:c', '']) {
      expect(() => parseListenAddress(bad), bad).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
  });
  it('formats URLs with IPv6 in brackets', () => {
    expect(formatUrl('::1', 80)).toBe('http://[::1]:80');
    expect(formatUrl('127.0.0.1', 3000)).toBe('http://127.0.0.1:3000');
  });
});

describe('host classification', () => {
  it('loopback: 127/8, ::1 (and its IPv4-mapped form), localhost', () => {
    for (const h of [
      '127.0.0.1',
      '127.255.0.9',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
      'localhost',
      'LOCALHOST.',
      'a.localhost',
    ])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.0.1', 'example.com', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
  it('private: loopback, RFC 1918, link-local, ULA, unspecified; public addresses and names are not', () => {
    const priv = [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '100.64.0.1',
      '224.0.0.1',
      '::1',
      '::',
      'fc00::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::ffff:a00:1',
      'localhost',
      '',
    ];
    for (const h of priv) expect(isPrivateHost(h), h).toBe(true);
    for (const h of [
      '8.8.8.8',
      '172.15.255.255',
      '172.32.0.0',
      '192.169.0.1',
      '2001:db8::1',
      'example.com',
      'localhost.example.com',
    ])
      expect(isPrivateHost(h), h).toBe(false);
  });
});
