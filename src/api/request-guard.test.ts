// The Host and Origin rules as pure functions, and the JSON depth scan (the served behaviour: test/api/cross-site).
import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './body-limit.js';
import { isAllowedHostname, isAllowedOrigin, parseHostHeader } from './request-guard.js';

const loopbackOnly = { allowedHostnames: [], allowedOrigins: [], offLoopback: false };

describe('Host', () => {
  it('parses host[:port], [v6][:port]; refuses garbage', () => {
    expect(parseHostHeader('LocalHost:3000')).toEqual({ hostname: 'localhost', port: 3000 });
    expect(parseHostHeader('[::1]:8')).toEqual({ hostname: '::1', port: 8 });
    expect(parseHostHeader('127.0.0.1')).toEqual({ hostname: '127.0.0.1' });
    for (const bad of ['', 'a b', 'user@host', 'h/x', '[::1', 'a:b:c'])
      expect(parseHostHeader(bad), bad).toBeUndefined();
  });

  it('loopback names and addresses only, unless listed; IP literals too when listening off loopback', () => {
    for (const h of ['localhost', 'app.localhost', '127.0.0.1', '127.9.9.9', '::1'])
      expect(isAllowedHostname(h, loopbackOnly), h).toBe(true);
    for (const h of ['evil.example', 'localhost.evil.example', '10.0.0.1', '0.0.0.0'])
      expect(isAllowedHostname(h, loopbackOnly), h).toBe(false);
    expect(isAllowedHostname('proxy.internal', { ...loopbackOnly, allowedHostnames: ['Proxy.Internal'] })).toBe(true);
    expect(isAllowedHostname('10.0.0.1', { ...loopbackOnly, offLoopback: true })).toBe(true);
    expect(isAllowedHostname('evil.example', { ...loopbackOnly, offLoopback: true })).toBe(false);
  });
});

describe('Origin', () => {
  it("the request's own origin (same host and port, http or https), or a listed one", () => {
    expect(isAllowedOrigin('http://127.0.0.1:3000', '127.0.0.1:3000', [])).toBe(true);
    expect(isAllowedOrigin('https://interlock.example', 'interlock.example', [])).toBe(true);
    expect(isAllowedOrigin('https://interlock.example:443', 'interlock.example:443', [])).toBe(true);
    expect(isAllowedOrigin('http://127.0.0.1:3001', '127.0.0.1:3000', [])).toBe(false);
    expect(isAllowedOrigin('http://localhost:3000', '127.0.0.1:3000', [])).toBe(false);
    expect(isAllowedOrigin('null', '127.0.0.1:3000', [])).toBe(false);
    expect(isAllowedOrigin('https://dash.example', '127.0.0.1:3000', ['https://Dash.Example:443'])).toBe(true);
  });
});

describe('jsonDepthExceeds', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('counts nesting of arrays and objects, not brackets inside strings', () => {
    expect(jsonDepthExceeds(enc('{"a":[[]]}'), 3)).toBe(false);
    expect(jsonDepthExceeds(enc('{"a":[[[]]]}'), 3)).toBe(true);
    expect(jsonDepthExceeds(enc(`{"s":"${'['.repeat(100)}\\"["}`), 1)).toBe(false);
    expect(jsonDepthExceeds(enc(`${'['.repeat(65)}${']'.repeat(65)}`), 64)).toBe(true);
    expect(jsonDepthExceeds(enc(`${'['.repeat(64)}${']'.repeat(64)}`), 64)).toBe(false);
  });
});
