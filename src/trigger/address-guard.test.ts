// Which addresses untrusted http triggers may reach, and the resolve-once/connect-to-the-checked-address rule,
// against real local servers and a stub resolver (DNS rebinding).
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { type MockService, startService } from '../../test/fixtures/triggers/mock-services.js';
import {
  checkHost,
  literalHostReason,
  nonPublicReason,
  type ResolvedAddress,
  type ResolveHost,
} from './address-guard.js';
import { fireTrigger, type TriggerContext } from './index.js';

const services: MockService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});
async function serve(): Promise<MockService> {
  const s = await startService((_req, res) => res.end('{"ok":true}'));
  services.push(s);
  return s;
}
const portOf = (s: MockService) => new URL(s.url).port;

/** A resolver that gives each answer in turn (the last one forever after) and counts its calls. */
function stub(...answers: string[][]): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (host: string): Promise<ResolvedAddress[]> => {
    calls.push(host);
    const a = answers[Math.min(calls.length - 1, answers.length - 1)] ?? [];
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

const ctx = (extra: Partial<TriggerContext> = {}): TriggerContext => ({
  projectDir: '/nonexistent',
  pipeline: 'p',
  runId: '01JTESTRUN',
  env: {},
  ...extra,
});

describe('nonPublicReason', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.16.5.5',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:8.8.8.8',
    '::127.0.0.1',
    '::7f00:1',
    '64:ff9b::7f00:1',
    '64:ff9b::8.8.8.8',
    '64:ff9b:1::1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1%eth0',
    'ff02::1',
    '2002:7f00:1::1',
  ])('%s is not public', (ip) => {
    expect(nonPublicReason(ip)).toBeDefined();
  });

  it.each(['8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '2001:db8::1'])('%s is public', (ip) => {
    expect(nonPublicReason(ip)).toBeUndefined();
  });
});

describe('checkHost', () => {
  it('localhost and this machine’s own hostname are refused; allowedHosts lets them through', async () => {
    for (const h of ['localhost', 'LOCALHOST.', 'app.localhost', hostname()]) {
      const r = await checkHost(h, { allowedHosts: [] });
      expect(r.ok, h).toBe(false);
    }
    expect((await checkHost(hostname(), { allowedHosts: [hostname()] })).ok).toBe(true);
    expect((await checkHost('localhost', { allowedHosts: ['127.0.0.1'] })).ok).toBe(true);
    expect((await checkHost('10.1.2.3', { allowedHosts: ['10.0.0.0/8'] })).ok).toBe(true);
    expect((await checkHost('[::1]', { allowedHosts: ['[::1]'] })).ok).toBe(true);
    expect((await checkHost('10.1.2.3', { allowedHosts: ['10.0.0.0/16'] })).ok).toBe(false);
  });

  it('every address counts: one private address among public ones refuses the name', async () => {
    const r = await checkHost('mixed.test', { allowedHosts: [], resolve: stub(['8.8.8.8', '10.0.0.7']) });
    expect(r).toMatchObject({ ok: false });
    expect(r.ok ? '' : r.reason).toContain('10.0.0.7');
    const ok = await checkHost('pub.test', { allowedHosts: [], resolve: stub(['8.8.8.8', '2606:4700::1']) });
    expect(ok).toEqual({ ok: true, address: { address: '8.8.8.8', family: 4 } });
  });

  it('a name that does not resolve is refused (unresolved), never passed through', async () => {
    const r = await checkHost('interlock-no-such-host.invalid', { allowedHosts: [] });
    expect(r).toMatchObject({ ok: false, unresolved: true });
  });

  it('literalHostReason judges literals and localhost names only', () => {
    expect(literalHostReason('127.0.0.1', [])).toBeDefined();
    expect(literalHostReason('[::ffff:127.0.0.1]', [])).toBeDefined();
    expect(literalHostReason('localhost', [])).toBeDefined();
    expect(literalHostReason('8.8.8.8', [])).toBeUndefined();
    expect(literalHostReason('some.name', [])).toBeUndefined();
  });
});

describe('http trigger with an address policy (pipelines registered over HTTP)', () => {
  it('DNS rebinding: public at registration, private at fire time → refused before sending', async () => {
    const s = await serve();
    const resolve = stub(['93.184.216.34'], ['127.0.0.1']);
    // Registration time: the name is public.
    expect((await checkHost('rebind.test', { allowedHosts: [], resolve })).ok).toBe(true);
    const out = await fireTrigger(
      { type: 'http', url: `http://rebind.test:${portOf(s)}/hook` },
      ctx({ addressPolicy: { allowedHosts: [], resolve } }),
    );
    expect(out.ok).toBe(false);
    expect(out.error).toMatch(/^refused before sending: host 'rebind.test' resolves to 127.0.0.1/);
    expect(s.connections).toBe(0);
  });

  it('the connection goes to the checked address (no second lookup), with the original Host header', async () => {
    const s = await serve();
    // First answer: the checked (allowed) address; any later lookup would answer elsewhere.
    const resolve = stub(['127.0.0.1'], ['10.255.255.1']);
    const out = await fireTrigger(
      { type: 'http', url: `http://rebind.test:${portOf(s)}/hook`, body: '{}' },
      ctx({ addressPolicy: { allowedHosts: ['127.0.0.1'], resolve } }),
    );
    expect(out, JSON.stringify(out)).toMatchObject({ ok: true, httpStatus: 200 });
    expect(resolve.calls).toEqual(['rebind.test']);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]?.headers.host).toBe(`rebind.test:${portOf(s)}`);
    expect(s.requests[0]?.path).toBe('/hook');
  });

  it('localhost and this machine’s hostname are refused at fire time; without a policy (YAML) they are reached', async () => {
    const s = await serve();
    for (const h of ['localhost', hostname(), '127.0.0.1', '[::ffff:127.0.0.1]']) {
      const out = await fireTrigger(
        { type: 'http', url: `http://${h}:${portOf(s)}/x` },
        ctx({ addressPolicy: { allowedHosts: [] } }),
      );
      expect(out.ok, h).toBe(false);
      expect(out.error, h).toMatch(/^refused before sending/);
    }
    expect(s.connections).toBe(0);
    const trusted = await fireTrigger({ type: 'http', url: `http://${hostname()}:${portOf(s)}/x` }, ctx());
    expect(trusted.ok).toBe(true);
  });
});
