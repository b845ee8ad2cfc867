// init's Redis key prefix: one per project directory, safe to write in YAML and on a cluster.
import { describe, expect, it } from 'vitest';
import { redisKeyPrefixFor } from './scaffold.js';

describe('redisKeyPrefixFor', () => {
  it('is interlock:<directory name>: with the name lower-cased and reduced to [a-z0-9._-]', () => {
    expect(redisKeyPrefixFor('/srv/demo')).toBe('interlock:demo:');
    expect(redisKeyPrefixFor('/srv/Sales Ingest!')).toBe('interlock:sales-ingest:');
    expect(redisKeyPrefixFor('/srv/a{b}"c\\d:e')).toBe('interlock:a-b-c-d-e:');
    expect(redisKeyPrefixFor('/srv/billing.v2')).toBe('interlock:billing.v2:');
    expect(redisKeyPrefixFor('relative/dir/x_y')).toBe('interlock:x_y:');
  });

  it('never contains braces or quotes, and an unusable name becomes "project"', () => {
    for (const dir of ['/srv/{}', '/srv/ü', '/srv/---', '/srv/...']) {
      const p = redisKeyPrefixFor(dir);
      expect(p, dir).toBe('interlock:project:');
    }
    expect(redisKeyPrefixFor(`/srv/${'x'.repeat(200)}`)).toBe(`interlock:${'x'.repeat(64)}:`);
  });
});
