import { describe, expect, it } from 'vitest';
import { formatUrl, isLoopbackHost, parseListenAddress } from './address.js';

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
});
