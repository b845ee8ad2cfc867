import { describe, expect, it } from 'vitest';
import { readCookie, SESSION_TTL_MS, Sessions, sessionCookie } from './auth.js';

const T0 = 1_700_000_000_000;

describe('session cookies', () => {
  it('a cookie this process issued verifies until its expiry, and not at or after it', () => {
    const s = new Sessions('tok');
    const v = s.issue(T0);
    expect(s.verify(v, T0)).toBe(true);
    expect(s.verify(v, T0 + SESSION_TTL_MS - 1)).toBe(true);
    expect(s.verify(v, T0 + SESSION_TTL_MS)).toBe(false);
  });

  it('is not the token, does not contain it, and dies with the process key', () => {
    const a = new Sessions('the-token');
    const v = a.issue(T0);
    expect(v).not.toContain('the-token');
    expect(new Sessions('the-token').verify(v, T0)).toBe(false); // another process: another key
  });

  it('refuses a forged expiry, a changed MAC, garbage and nothing', () => {
    const s = new Sessions('tok');
    const v = s.issue(T0);
    const [exp, mac] = v.split('.') as [string, string];
    expect(s.verify(`${Number(exp) + 1_000_000}.${mac}`, T0)).toBe(false);
    const flipped = `${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    expect(s.verify(`${exp}.${flipped}`, T0)).toBe(false);
    for (const bad of ['', 'x', `${exp}.`, `.${mac}`, `${exp}.${mac}x`, 'tok', undefined]) {
      expect(s.verify(bad, T0), String(bad)).toBe(false);
    }
  });

  it('matches the token in constant time whatever the length', () => {
    const s = new Sessions('tok');
    expect(s.matches('tok')).toBe(true);
    expect(s.matches('tok ')).toBe(false);
    expect(s.matches('x'.repeat(5000))).toBe(false);
  });

  it('Set-Cookie: HttpOnly, SameSite=Strict, Path=/, Max-Age of the TTL; Secure only when asked', () => {
    expect(sessionCookie('v', false)).toBe(
      `interlock_session=v; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`,
    );
    expect(sessionCookie('v', true)).toMatch(/; Secure$/);
  });

  it('reads the named cookie among others', () => {
    expect(readCookie('a=1; interlock_session=xyz; b=2', 'interlock_session')).toBe('xyz');
    expect(readCookie('interlock_sessionx=1', 'interlock_session')).toBeUndefined();
    expect(readCookie(undefined, 'interlock_session')).toBeUndefined();
  });
});
