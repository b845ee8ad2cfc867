// The Lua include step: what is registered on the client is each script with its includes spliced in, and a
// missing include fails loudly when the scripts load.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadScripts, resolveIncludes, Scripts } from './scripts.js';

const LUA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'lua');
const include = (name: string) => readFileSync(join(LUA_DIR, 'includes', `${name}.lua`), 'utf8');

describe('redis scripts with --- @include', () => {
  it('registers every script with its includes spliced in, and no include line left', () => {
    const defined = new Map<string, string>();
    const client = { defineCommand: (name: string, d: { lua: string }) => defined.set(name, d.lua) };
    new Scripts(client as unknown as Redis);
    const files = readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua'));
    expect(defined.size).toBe(files.length);
    let spliced = 0;
    for (const file of files) {
      const name = file.replace(/-(\d+|n)\.lua$/, '');
      const raw = readFileSync(join(LUA_DIR, file), 'utf8');
      const run = defined.get(`interlock_${name.replace(/-/g, '_')}`) ?? '';
      expect(run).not.toMatch(/^--- @include/m);
      // What runs is the file with each include line replaced by that include's text, byte for byte.
      const expected = raw.replace(/^--- @include "([a-z-]+)"$/gm, (_l, n: string) => include(n).replace(/\n$/, ''));
      expect(run).toBe(expected);
      if (expected !== raw) spliced++;
    }
    // create-run, cas-run and save-evaluation share the record append; create-run and lock-for-delete the lock
    // take-back; every script that writes a pipeline's data publishes the change; the window writes share the
    // fence and the indexing.
    expect(spliced).toBe(9);
    for (const name of [
      'create_run',
      'cas_run',
      'release_lock',
      'save_evaluation',
      'put_pipeline',
      'delete_pipeline',
      'create_window',
      'cas_window',
    ]) {
      expect(defined.get(`interlock_${name}`), name).toContain('local function publishChange(');
    }
    for (const name of ['create_window', 'cas_window']) {
      expect(defined.get(`interlock_${name}`)).toContain('local function fenceHolds(');
      expect(defined.get(`interlock_${name}`)).toContain('local function indexWindow(');
    }
    expect(defined.get('interlock_cas_run')).toContain('local function appendRecord(');
    expect(defined.get('interlock_create_run')).toContain('local function takeBackLock(');
    expect(defined.get('interlock_lock_for_delete')).toContain('local function takeBackLock(');
  });

  it('a missing include fails loudly when the scripts load', () => {
    const dir = join(tmpdir(), `interlock-lua-${process.pid}-${Date.now()}`);
    mkdirSync(join(dir, 'includes'), { recursive: true });
    writeFileSync(join(dir, 'broken-1.lua'), 'return 1\n--- @include "no-such-stanza"\n');
    expect(() => loadScripts(dir)).toThrow(/includes 'no-such-stanza', which is not in lua\/includes/);
    writeFileSync(join(dir, 'broken-1.lua'), 'return 1\n');
    expect(loadScripts(dir).get('broken')?.lua).toBe('return 1\n');
  });

  it('includes nest, each at most once, and a cycle is refused', () => {
    const lib: Record<string, string> = { a: '--- @include "b"\nA\n', b: 'B\n', c: '--- @include "c"\n' };
    expect(resolveIncludes('s', '--- @include "a"\n--- @include "b"\nX\n', (n) => lib[n])).toBe('B\nA\n\nX\n');
    expect(() => resolveIncludes('s', '--- @include "c"\n', (n) => lib[n])).toThrow(/include cycle c -> c/);
    expect(() => resolveIncludes('s', '--- @include "../x"\n', () => 'oops')).toThrow(/not in lua\/includes/);
  });
});
