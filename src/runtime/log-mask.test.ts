import { describe, expect, it } from 'vitest';
import { secretMask } from './log-mask.js';

describe('secretMask', () => {
  it('masks secret-looking variables as stored records do (raw and encoded forms), not other values', () => {
    const m = secretMask({
      WAREHOUSE_PASSWORD: 'pa ss/wörd',
      INTERLOCK_API_TOKEN: 'api-token-123',
      INTERLOCK_RUN_KEY: 'p@daily@2025-01-01#1',
      HOME: '/home/someone',
    });
    expect(m.mask('login pa ss/wörd then pa%20ss%2Fw%C3%B6rd')).toBe('login *** then ***');
    expect(m.mask('Bearer api-token-123')).toBe('Bearer ***');
    // Interlock's own identifiers and variables without a secret-looking name stay.
    expect(m.mask('p@daily@2025-01-01#1 in /home/someone')).toBe('p@daily@2025-01-01#1 in /home/someone');
  });

  it('takes a secret known later (server.authToken from interlock.yaml)', () => {
    const m = secretMask({});
    expect(m.mask('yaml-token-xyz')).toBe('yaml-token-xyz');
    m.add('yaml-token-xyz');
    expect(m.mask('GET /api/pipelines/yaml-token-xyz')).toBe('GET /api/pipelines/***');
  });
});
