import { describe, expect, it } from 'vitest';
import type { ProjectConfig } from '../config/project.js';
import { serverSettings } from './settings.js';

const config = (server: Partial<ProjectConfig['server']> = {}) =>
  ({ server: { addr: '127.0.0.1:3000', ...server } }) as ProjectConfig;

describe('serverSettings', () => {
  it('defaults to 127.0.0.1:3000 without a token, 1 MiB bodies, a 10 s shutdown bound, registration untrusted', () => {
    expect(serverSettings(config(), {}, {})).toEqual({
      host: '127.0.0.1',
      port: 3000,
      insecure: false,
      insecureAllowed: false,
      allowedHostnames: [],
      allowedOrigins: [],
      maxBodyBytes: 1024 * 1024,
      shutdownTimeoutMs: 10_000,
      metricsPublic: false,
      allowCommandRegistration: false,
      allowedHosts: [],
    });
  });
  it('server.metricsPublic: true makes GET /metrics public', () => {
    expect(serverSettings(config({ metricsPublic: true }), {}, {}).metricsPublic).toBe(true);
  });
  it('--addr overrides server.addr; INTERLOCK_API_TOKEN overrides server.authToken (an empty one is ignored)', () => {
    const s = serverSettings(config({ authToken: 'yaml' }), { addr: '[::1]:9' }, { INTERLOCK_API_TOKEN: 'env' });
    expect(s).toMatchObject({ host: '::1', port: 9, token: 'env' });
    expect(serverSettings(config({ authToken: 'yaml' }), {}, { INTERLOCK_API_TOKEN: '' }).token).toBe('yaml');
  });
  it('refuses a non-loopback address without a token (USAGE), unless --insecure', () => {
    for (const addr of ['0.0.0.0:3000', ':3000', '10.0.0.5:80', 'myhost:80']) {
      expect(() => serverSettings(config({ addr }), {}, {}), addr).toThrow(/refusing to listen.*--insecure/);
      expect(serverSettings(config({ addr }), { insecure: true }, {}).insecure).toBe(true);
      expect(serverSettings(config({ addr }), {}, { INTERLOCK_API_TOKEN: 't' }).insecure).toBe(false);
    }
  });
  it('refuses an empty or unprintable token', () => {
    expect(() => serverSettings(config({ authToken: '' }), {}, {})).toThrow(/empty/);
    expect(() => serverSettings(config({ authToken: 'a b' }), {}, {})).toThrow(/printable ASCII/);
  });
});
