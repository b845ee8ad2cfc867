// Pushed trait results, `evaluator: push` and evaluating only what is needed: memory store, fake clock, real
// evaluator scripts that append to a marker file each time they run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { InterlockError } from '../core/errors.js';
import type { Alert } from '../core/types.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { type Context, getPipeline, openContext } from './context.js';
import { evaluatePipeline, evaluateWithAlerts } from './evaluate.js';
import { pushTraitResult } from './push.js';
import { checkStoredPipeline, registerPipeline } from './register.js';
import { runPipeline } from './run.js';
import { pipelineHistory, traitResult } from './status.js';

const T0 = 1_700_000_000_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Project {
  ctx: Context;
  root: string;
  store: MemoryStore;
  clock: FakeClock;
  raised: Alert[];
  sent: Alert[];
  /** Which evaluators ran, one line per spawn (the script's name). */
  spawns: () => string[];
}

/** An evaluator that records each spawn in runs.log, then answers `status`. */
function script(root: string, name: string, status: 'PASS' | 'FAIL'): void {
  writeFileSync(
    join(root, 'evaluators', name),
    `#!/bin/sh\necho ${name} >> '${join(root, 'runs.log')}'\necho '{"status":"${status}","reason":"${name} says ${status}"}'\n`,
    { mode: 0o755 },
  );
}

/**
 * Archetype `gate`: required `a` (ttl 600), required `fed` (ttl 300), required `fed-archetype` (`evaluator: push`
 * in the archetype, no ttl), optional `b` (ttl 120). Pipeline `p`: a → check-a, fed → push, b → check-b, and a
 * trigger that writes fired.log. `evaluators/push` exists and records a spawn: it must never run.
 */
async function project(files: Record<string, string> = {}): Promise<Project> {
  const root = mkdtempSync(join(tmpdir(), 'interlock-push-'));
  dirs.push(root);
  for (const d of ['evaluators', 'archetypes', 'pipelines']) mkdirSync(join(root, d));
  writeFileSync(join(root, 'interlock.yaml'), 'provider: memory\n');
  writeFileSync(
    join(root, 'archetypes', 'gate.yaml'),
    [
      'name: gate',
      'requiredTraits:',
      '  - type: a',
      '    defaultTtl: 600',
      '  - type: fed',
      '    defaultTtl: 5m',
      '  - type: fed-archetype',
      '    evaluator: push',
      'optionalTraits:',
      '  - type: b',
      '    defaultTtl: 120',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(root, 'pipelines', 'p.yaml'),
    [
      'name: p',
      'archetype: gate',
      'traits:',
      '  a:',
      '    evaluator: check-a',
      '  fed:',
      '    evaluator: push',
      '  b:',
      '    evaluator: check-b',
      'trigger:',
      '  type: command',
      `  command: "echo fired >> '${join(root, 'fired.log')}'"`,
      '',
    ].join('\n'),
  );
  script(root, 'check-a', 'PASS');
  script(root, 'check-b', 'PASS');
  script(root, 'push', 'PASS');
  for (const [f, text] of Object.entries(files)) writeFileSync(join(root, f), text);
  const store = new MemoryStore();
  const clock = new FakeClock(T0);
  const ctx = await openContext({ cwd: root, env: process.env, store, clock, log: recordingLogger() });
  const raised: Alert[] = [];
  const sent: Alert[] = [];
  ctx.events.subscribe('alert.raised', (e) => {
    raised.push(e.alert);
  });
  const dispatch = ctx.alerts.dispatch.bind(ctx.alerts);
  ctx.alerts.dispatch = async (alerts) => {
    sent.push(...alerts);
    return dispatch(alerts);
  };
  const log = join(root, 'runs.log');
  const spawns = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  return { ctx, root, store, clock, raised, sent, spawns };
}

async function refusal(p: Promise<unknown>): Promise<InterlockError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InterlockError);
  return err as InterlockError;
}

describe('pushTraitResult', () => {
  it('stores a PASS with source push and the trait ttl as default; records a push decision; spawns nothing', async () => {
    const { ctx, clock, spawns } = await project();
    clock.advance(1000);
    const pushed = await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS', value: { rows: 5 }, reason: 'loaded' });
    expect(pushed.result).toMatchObject({
      pipeline: 'p',
      trait: 'fed',
      status: 'PASS',
      state: 'PASS',
      required: true,
      source: 'push',
      value: { rows: 5 },
      reason: 'loaded',
      evaluatedAt: T0 + 1000,
      expiresAt: T0 + 1000 + 300_000,
    });
    expect(pushed.result.reasonCode).toBeUndefined();
    const stored = await ctx.store.getTraitResult('p', 'fed');
    expect(stored).toMatchObject({ source: 'push', status: 'PASS', expiresAt: T0 + 301_000 });
    const [d] = await ctx.store.listDecisions('p');
    expect(d).toMatchObject({ source: 'push', outcome: 'NOT_READY', decidedAt: T0 + 1000 });
    // a and fed-archetype have no result yet: they block; fed does not.
    expect(d?.blocking.map((b) => b.trait).sort()).toEqual(['a', 'fed-archetype']);
    expect((await ctx.store.getReadiness('p'))?.decidedAt).toBe(T0 + 1000);
    const history = await pipelineHistory(ctx, 'p');
    expect(history[0]).toMatchObject({ type: 'decision', source: 'push' });
    expect(spawns()).toEqual([]);
  });

  it('an explicit ttl (string or seconds) sets the expiry; a trait without a ttl never expires unless told', async () => {
    const { ctx } = await project();
    expect((await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS', ttl: '1m' })).result.expiresAt).toBe(T0 + 60_000);
    expect((await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS', ttl: 90 })).result.expiresAt).toBe(T0 + 90_000);
    const forever = await pushTraitResult(ctx, 'p', 'fed-archetype', { status: 'PASS' });
    expect(forever.result.expiresAt).toBeUndefined();
    const day = await pushTraitResult(ctx, 'p', 'fed-archetype', { status: 'PASS', ttl: '1d' });
    expect(day.result.expiresAt).toBe(T0 + 86_400_000);
  });

  it('refuses a bad field by name, and a ttl longer than the trait allows; nothing is stored', async () => {
    const { ctx } = await project();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'status'],
      [{ status: 'pass' }, 'status'],
      [{ status: 'STALE' }, 'status'],
      [{ status: 'PASS', value: [1] }, 'value'],
      [{ status: 'PASS', value: 'x' }, 'value'],
      [{ status: 'PASS', value: { big: 'x'.repeat(70_000) } }, 'value'],
      [{ status: 'PASS', reason: 5 }, 'reason'],
      [{ status: 'PASS', reason: 'x'.repeat(4001) }, 'reason'],
      [{ status: 'PASS', ttl: '5x' }, 'ttl'],
      [{ status: 'PASS', ttl: 0 }, 'ttl'],
      [{ status: 'PASS', ttl: -5 }, 'ttl'],
      [{ status: 'PASS', ttl: '10m' }, 'ttl'], // fed's ttl is 5m
      [{ status: 'PASS', ttl: '31d' }, 'ttl'],
    ];
    for (const [input, field] of cases) {
      const trait = field === 'ttl' && input.ttl === '31d' ? 'fed-archetype' : 'fed';
      const err = await refusal(pushTraitResult(ctx, 'p', trait, input as never));
      expect(err.code, JSON.stringify(input)).toBe('USAGE');
      expect(err.message.startsWith(`${field}: `), err.message).toBe(true);
      expect(err.context.problems).toEqual([{ path: field, message: expect.any(String) }]);
    }
    expect(await ctx.store.getTraitResults('p')).toEqual([]);
    expect(await ctx.store.listDecisions('p')).toEqual([]);
  });

  it('an unknown trait is TRAIT_NOT_FOUND, an unknown pipeline PIPELINE_NOT_FOUND, an INVALID one refused', async () => {
    const { ctx } = await project({
      'pipelines/broken.yaml': 'name: broken\narchetype: gate\ntraits:\n  nope: {}\n',
    });
    const unknownTrait = await refusal(pushTraitResult(ctx, 'p', 'zzz', { status: 'PASS' }));
    expect(unknownTrait.code).toBe('TRAIT_NOT_FOUND');
    expect(unknownTrait.message).toContain("has no trait 'zzz'");
    expect((await refusal(pushTraitResult(ctx, 'nope', 'a', { status: 'PASS' }))).code).toBe('PIPELINE_NOT_FOUND');
    expect((await refusal(pushTraitResult(ctx, 'broken', 'a', { status: 'PASS' }))).code).toBe('CONFIG_INVALID');
    expect(await ctx.store.listDecisions('p')).toEqual([]);
  });

  it('a pushed FAIL raises TRAIT_FAILED and PIPELINE_BLOCKED like an evaluated FAIL, and sends them', async () => {
    const { ctx, raised, sent } = await project();
    await pushTraitResult(ctx, 'p', 'fed-archetype', { status: 'PASS' });
    await evaluateWithAlerts(ctx, 'p', { source: 'test' });
    await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS' });
    expect((await ctx.store.getReadiness('p'))?.outcome).toBe('READY');
    raised.length = 0;
    sent.length = 0;
    const pushed = await pushTraitResult(ctx, 'p', 'fed', { status: 'FAIL', reason: 'upstream late' });
    expect(pushed.result).toMatchObject({ status: 'FAIL', state: 'FAIL', reasonCode: 'PUSHED_FAIL' });
    expect(pushed.evaluation.readiness.blocking).toEqual([
      { trait: 'fed', state: 'FAIL', reasonCode: 'PUSHED_FAIL', reason: 'upstream late' },
    ]);
    expect(raised.map((a) => a.kind).sort()).toEqual(['PIPELINE_BLOCKED', 'TRAIT_FAILED']);
    expect(raised.find((a) => a.kind === 'TRAIT_FAILED')).toMatchObject({ pipeline: 'p', trait: 'fed' });
    expect(sent.map((a) => a.kind).sort()).toEqual(['PIPELINE_BLOCKED', 'TRAIT_FAILED']);
    // A FAIL without a reason still says why.
    expect((await pushTraitResult(ctx, 'p', 'b', { status: 'FAIL' })).result.reason).toBe('pushed FAIL');
  });

  it('publishes evaluation.decided once per push, with the pushed result and the whole readiness', async () => {
    const { ctx } = await project();
    const seen: Array<{ results: string[]; traits: string[]; source: string }> = [];
    ctx.events.subscribe('evaluation.decided', ({ evaluation }) => {
      seen.push({
        results: evaluation.results.map((r) => r.trait),
        traits: evaluation.readiness.traits.map((t) => t.trait),
        source: evaluation.decision.source,
      });
    });
    await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS' });
    expect(seen).toEqual([{ results: ['fed'], traits: ['a', 'fed', 'fed-archetype', 'b'], source: 'push' }]);
  });
});

describe('evaluator: push', () => {
  it('resolves to a push trait with no evaluator path (pipeline or archetype); evaluators/push never runs', async () => {
    const { ctx, spawns } = await project();
    const spec = await getPipeline(ctx, 'p');
    for (const type of ['fed', 'fed-archetype']) {
      const t = spec.traits.find((x) => x.type === type);
      expect(t).toMatchObject({ push: true, evaluatorRef: 'push' });
      expect(t?.evaluator).toBeUndefined();
    }
    const ev = await evaluatePipeline(ctx, spec, { source: 'test' });
    expect(spawns().sort()).toEqual(['check-a', 'check-b']);
    expect(ev.results.map((r) => r.trait).sort()).toEqual(['a', 'b']);
    // Missing push results are STALE, and they block.
    expect(ev.readiness.outcome).toBe('NOT_READY');
    expect(ev.readiness.blocking.map((b) => [b.trait, b.state])).toEqual([
      ['fed', 'STALE'],
      ['fed-archetype', 'STALE'],
    ]);
    // `validate` says nothing about a missing evaluator for them.
    expect(ctx.project.diagnostics.filter((d) => /fed/.test(d.message))).toEqual([]);
  });

  it('push PASS, then evaluate is READY; once the pushed result expires it is STALE and blocks (fake clock)', async () => {
    const { ctx, clock, spawns } = await project();
    await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS' });
    await pushTraitResult(ctx, 'p', 'fed-archetype', { status: 'PASS' });
    const ready = await evaluateWithAlerts(ctx, 'p', { source: 'test' });
    expect(ready.readiness.outcome).toBe('READY');
    expect(ready.readiness.traits.find((t) => t.trait === 'fed')?.result?.source).toBe('push');
    clock.advance(300_000 - 1);
    expect((await evaluateWithAlerts(ctx, 'p', { source: 'test' })).readiness.outcome).toBe('READY');
    clock.advance(1);
    const stale = await evaluateWithAlerts(ctx, 'p', { source: 'test' });
    expect(stale.readiness.outcome).toBe('NOT_READY');
    expect(stale.readiness.blocking).toEqual([expect.objectContaining({ trait: 'fed', state: 'STALE' })]);
    expect(spawns().filter((s) => s === 'push')).toEqual([]);
  });

  it('run fires only once the push trait has a fresh PASS; the pushed evidence counts from the store', async () => {
    const { ctx, root } = await project();
    await pushTraitResult(ctx, 'p', 'fed-archetype', { status: 'PASS' });
    const blocked = await runPipeline(ctx, 'p', { source: 'test' });
    expect(blocked.kind).toBe('blocked');
    expect(existsSync(join(root, 'fired.log'))).toBe(false);
    await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS' });
    const fired = await runPipeline(ctx, 'p', { source: 'test' });
    expect(fired.kind).toBe('triggered');
    expect(readFileSync(join(root, 'fired.log'), 'utf8')).toBe('fired\n');
    expect(existsSync(join(root, 'runs.log')) && readFileSync(join(root, 'runs.log'), 'utf8')).not.toContain('push');
  });

  it('the API registration path accepts evaluator: push untrusted, with no path check, and reads it back valid', async () => {
    const { ctx, spawns } = await project();
    const reg = await registerPipeline(ctx, {
      name: 'remote',
      archetype: 'gate',
      traits: { a: { evaluator: 'push' }, fed: { evaluator: 'push' } },
    });
    expect(reg.created).toBe(true);
    expect(reg.pipeline.traits.filter((t) => t.push).map((t) => t.type)).toEqual(['a', 'fed', 'fed-archetype']);
    const entry = await ctx.store.getPipeline('remote');
    const checked = checkStoredPipeline(ctx, entry as NonNullable<typeof entry>);
    expect(checked.ok).toBe(true);
    for (const t of ['a', 'fed', 'fed-archetype']) await pushTraitResult(ctx, 'remote', t, { status: 'PASS' });
    const ev = await evaluateWithAlerts(ctx, 'remote', { source: 'test' });
    expect(ev.readiness.outcome).toBe('READY');
    expect(ev.results).toEqual([]);
    expect(spawns()).toEqual([]);
  });
});

describe('evaluatePipeline({ only })', () => {
  it('runs only the listed evaluators; every other trait counts with its stored result; one decision', async () => {
    const { ctx, spawns, clock } = await project();
    const spec = await getPipeline(ctx, 'p');
    await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS' });
    await pushTraitResult(ctx, 'p', 'fed-archetype', { status: 'PASS' });
    await evaluatePipeline(ctx, spec, { source: 'test' });
    expect(spawns().sort()).toEqual(['check-a', 'check-b']);
    const before = (await ctx.store.listDecisions('p')).length;
    clock.advance(60_000);
    const ev = await evaluatePipeline(ctx, spec, { source: 'watcher', only: ['a'] });
    expect(spawns().sort()).toEqual(['check-a', 'check-a', 'check-b']);
    expect(ev.results.map((r) => r.trait)).toEqual(['a']);
    expect(ev.readiness.outcome).toBe('READY');
    expect(ev.readiness.traits.map((t) => t.trait)).toEqual(['a', 'fed', 'fed-archetype', 'b']);
    // b's stored result is reused as it was (not rewritten): its time is the first evaluation's.
    expect((await ctx.store.getTraitResult('p', 'b'))?.evaluatedAt).toBe(T0);
    expect((await ctx.store.getTraitResult('p', 'a'))?.evaluatedAt).toBe(T0 + 60_000);
    expect((await ctx.store.listDecisions('p')).length).toBe(before + 1);
    expect((await ctx.store.listDecisions('p'))[0]).toMatchObject({ source: 'watcher', outcome: 'READY' });
  });

  it('a reused result that has expired is STALE and blocks; only: [] runs nothing', async () => {
    const { ctx, spawns, clock } = await project();
    const spec = await getPipeline(ctx, 'p');
    await pushTraitResult(ctx, 'p', 'fed-archetype', { status: 'PASS' });
    await pushTraitResult(ctx, 'p', 'fed', { status: 'PASS', ttl: '4m' });
    await evaluatePipeline(ctx, spec, { source: 'test' });
    clock.advance(120_000); // b (ttl 120 s) has expired
    const ev = await evaluatePipeline(ctx, spec, { source: 'test', only: ['a'] });
    const b = ev.readiness.traits.find((t) => t.trait === 'b');
    expect(b?.state).toBe('STALE');
    // b is optional: it does not block all-required-pass; a required one does.
    expect(ev.readiness.outcome).toBe('READY');
    clock.advance(120_000); // fed (pushed with ttl 4m) has expired
    const none = await evaluatePipeline(ctx, spec, { source: 'test', only: [] });
    expect(none.results).toEqual([]);
    expect(none.readiness.outcome).toBe('NOT_READY');
    expect(none.readiness.blocking).toEqual([expect.objectContaining({ trait: 'fed', state: 'STALE' })]);
    expect(spawns().sort()).toEqual(['check-a', 'check-a', 'check-b']);
  });

  it('a type the pipeline lacks is TRAIT_NOT_FOUND before anything runs or is recorded', async () => {
    const { ctx, spawns } = await project();
    const spec = await getPipeline(ctx, 'p');
    const err = await refusal(evaluatePipeline(ctx, spec, { source: 'test', only: ['a', 'zzz'] }));
    expect(err.code).toBe('TRAIT_NOT_FOUND');
    expect(spawns()).toEqual([]);
    expect(await ctx.store.listDecisions('p')).toEqual([]);
  });

  it('listing a push trait in only does not run anything for it', async () => {
    const { ctx, spawns } = await project();
    const spec = await getPipeline(ctx, 'p');
    const ev = await evaluatePipeline(ctx, spec, { source: 'test', only: ['fed', 'a'] });
    expect(ev.results.map((r) => r.trait)).toEqual(['a']);
    expect(spawns()).toEqual(['check-a']);
    expect((await refusal(traitResult(ctx, 'p', 'fed'))).code).toBe('TRAIT_NOT_FOUND');
  });
});

describe('evaluator in an archetype', () => {
  it("accepts only 'push' (or a builtin:<name>), saying so", async () => {
    const { checkSchema, archetypeSchema } = await import('../config/schema.js');
    const doc = (evaluator: unknown) => ({ name: 'x', requiredTraits: [{ type: 'a', evaluator }] });
    expect(checkSchema(archetypeSchema, doc('push')).ok).toBe(true);
    expect(checkSchema(archetypeSchema, doc('builtin:file')).ok).toBe(true);
    const r = checkSchema(archetypeSchema, doc('./evaluators/check'));
    expect(r.ok).toBe(false);
    expect(r.issues).toEqual([
      expect.objectContaining({
        path: ['requiredTraits', 0, 'evaluator'],
        message: "expected 'push' or 'builtin:<name>' (archetypes name no other evaluator)",
      }),
    ]);
  });
});

describe('add-pipeline and an archetype push trait', () => {
  it('wires no evaluator for it, even when a check-<trait> script exists', async () => {
    const { root } = await project();
    writeFileSync(
      join(root, 'evaluators', 'check-fed-archetype'),
      '#!/bin/sh\n# interlock-config: {}\necho \'{"status":"PASS"}\'\n',
      { mode: 0o755 },
    );
    writeFileSync(
      join(root, 'evaluators', 'check-fed'),
      '#!/bin/sh\n# interlock-config: {}\necho \'{"status":"PASS"}\'\n',
      {
        mode: 0o755,
      },
    );
    const { addPipeline } = await import('./add-pipeline.js');
    const r = addPipeline({ cwd: root, name: 'q', archetype: 'gate' });
    const text = readFileSync(r.file, 'utf8');
    expect(text).toContain('evaluator: check-fed\n');
    expect(text).not.toContain('fed-archetype');
    expect(r.missingEvaluators).not.toContain('fed-archetype');
  });

  it('wires no evaluator for an archetype builtin trait either', async () => {
    const { root } = await project();
    writeFileSync(
      join(root, 'archetypes', 'files.yaml'),
      'name: files\nrequiredTraits:\n  - type: landed\n    evaluator: builtin:file\n    defaultConfig: { path: x }\n',
    );
    writeFileSync(
      join(root, 'evaluators', 'check-landed'),
      '#!/bin/sh\n# interlock-config: {}\necho \'{"status":"PASS"}\'\n',
      {
        mode: 0o755,
      },
    );
    const { addPipeline } = await import('./add-pipeline.js');
    const r = addPipeline({ cwd: root, name: 'q', archetype: 'files' });
    expect(readFileSync(r.file, 'utf8')).not.toContain('check-landed');
    expect(r.missingEvaluators).toEqual([]);
  });
});
