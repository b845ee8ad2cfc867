// Issue 12 "Config reload": reloadProject's merge rule (what takes the new config, what fails closed, what needs a
// restart), its event, log line and alerts; and the config reloader's debounce. Memory store, fake clock, real files.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../../test/support/api-project.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { lines, put } from '../../test/support/files.js';
import { until } from '../../test/support/poll.js';
import { type RecordingLogger, recordingLogger } from '../../test/support/recording-logger.js';
import { useTempDirs } from '../../test/support/test-cleanups.js';
import { fired, RECORD_TRIGGER } from '../../test/support/trigger-recorder.js';
import { InterlockError } from '../core/errors.js';
import { isInvalid } from '../core/invalid.js';
import type { Alert } from '../core/types.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { startConfigReloader } from './config-reloader.js';
import { type Context, findPipeline, openContext } from './context.js';
import type { ProjectReload } from './events.js';
import { reloadProject } from './reload.js';
import { runPipeline } from './run.js';

const newDir = useTempDirs('interlock-reload-');
const ALERTS = 'alerts:\n  - type: file\n    path: ./alerts.log\n';

interface Setup {
  ctx: Context;
  root: string;
  clock: FakeClock;
  log: RecordingLogger;
  events: ProjectReload[];
  raised: Alert[];
}

async function setup(config = `provider: sqlite\n${ALERTS}`): Promise<Setup> {
  const root = makeProject(newDir(), { config });
  const clock = new FakeClock();
  const log = recordingLogger();
  const ctx = await openContext({ cwd: root, env: process.env, store: new MemoryStore(), clock, log });
  const s: Setup = { ctx, root, clock, log, events: [], raised: [] };
  ctx.events.subscribe('project.reloaded', (e) => {
    s.events.push(e);
  });
  ctx.events.subscribe('alert.raised', (e) => {
    s.raised.push(e.alert);
  });
  return s;
}

const Q = 'name: q\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n';

async function refusal(fn: () => Promise<unknown>): Promise<InterlockError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof InterlockError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('reloadProject: the merge rule', () => {
  it('takes every new definition: added, removed and changed pipelines, one event, no alert', async () => {
    const s = await setup();
    const before = s.ctx.project;
    put(s.root, 'pipelines/q.yaml', Q);
    rmSync(join(s.root, 'pipelines/no-trigger.yaml'));
    const p = readFileSync(join(s.root, 'pipelines/p.yaml'), 'utf8');
    put(s.root, 'pipelines/p.yaml', p.replace('evaluator: pass', 'evaluator: fail'));

    const r = await reloadProject(s.ctx, { reason: 'SIGHUP' });
    expect(r).toMatchObject({ applied: true, added: ['q'], removed: ['no-trigger'], changed: ['p'], failed: [] });
    expect(r.summary).toBe('config reload (SIGHUP): 1 added (q), 1 removed (no-trigger), 1 changed (p)');
    expect(s.ctx.project).not.toBe(before);
    expect(s.ctx.project.pipelines.get('p')?.traits[0]?.evaluator).toMatch(/evaluators\/fail$/);
    expect([...s.ctx.project.pipelines.keys()].sort()).toEqual(['p', 'q']);
    await expect(findPipeline(s.ctx, 'no-trigger')).rejects.toMatchObject({ code: 'PIPELINE_NOT_FOUND' });
    expect(s.events).toHaveLength(1);
    expect(s.events[0]).toMatchObject({ applied: true, previous: before, project: s.ctx.project, added: ['q'] });
    expect(s.raised).toEqual([]);
    expect(s.log.messages('warn')).toEqual([]);
    expect(lines(s.root, 'alerts.log')).toEqual([]);
  });

  it('a pipeline file broken beyond reading its name: that pipeline is INVALID under its old name (not gone), never run; the others take the new config; alerted once', async () => {
    const s = await setup();
    put(s.root, 'pipelines/p.yaml', 'name: p\narchetype: [gate\n');
    put(s.root, 'pipelines/q.yaml', `${Q}${RECORD_TRIGGER}`);

    const r = await reloadProject(s.ctx, { reason: 'file change' });
    expect(r).toMatchObject({ applied: true, added: ['q'], changed: ['p'], invalid: ['p'], failed: ['p'] });
    const p = await findPipeline(s.ctx, 'p');
    expect(isInvalid(p)).toBe(true);
    expect(p).toMatchObject({ status: 'INVALID', source: 'pipelines/p.yaml' });
    expect((p as { problems: Array<{ file?: string }> }).problems.length).toBeGreaterThan(0);
    expect((p as { problems: Array<{ file?: string }> }).problems.every((d) => d.file === 'pipelines/p.yaml')).toBe(
      true,
    );
    const refused = await refusal(() => runPipeline(s.ctx, 'p', { source: 'test' }));
    expect(refused.code).toBe('CONFIG_INVALID');
    expect(fired(s.root)).toEqual([]);
    // Everything else works on the new config.
    const q = await runPipeline(s.ctx, 'q', { source: 'test' });
    expect(q.kind).toBe('triggered');
    expect(fired(s.root)).toHaveLength(1);
    expect(s.ctx.project.pipelines.has('no-trigger')).toBe(true);

    expect(s.raised.map((a) => [a.kind, a.pipeline])).toEqual([['CONFIG_RELOAD_FAILED', 'p']]);
    const written = lines(s.root, 'alerts.log').map((l) => JSON.parse(l) as Alert);
    expect(written.map((a) => [a.kind, a.pipeline, a.level])).toEqual([['CONFIG_RELOAD_FAILED', 'p', 'error']]);
    const warnings = s.log.messages('warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^config reload \(file change\): 1 added \(q\), 0 removed, 1 changed \(p\); failed for pipeline p, now INVALID \(never triggered until fixed\): pipelines\/p\.yaml:\d+:\d+ /,
    );

    // The same broken file again: still INVALID, not alerted again.
    const again = await reloadProject(s.ctx);
    expect(again).toMatchObject({ applied: true, changed: [], invalid: ['p'], failed: [] });
    expect(isInvalid(await findPipeline(s.ctx, 'p'))).toBe(true);
    expect(s.raised).toHaveLength(1);

    // Fixed: valid again, on its new definition.
    put(s.root, 'pipelines/p.yaml', 'name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: fail\n');
    const fixed = await reloadProject(s.ctx);
    expect(fixed).toMatchObject({ applied: true, changed: ['p'], invalid: [], failed: [] });
    expect(isInvalid(await findPipeline(s.ctx, 'p'))).toBe(false);
  });

  it('a reload that makes the pipeline INVALID while its run is evaluating: the run ends FAILED, nothing fires', async () => {
    const s = await setup();
    put(s.root, 'pipelines/p.yaml', 'name: p\narchetype: [gate\n');
    let reloading: Promise<unknown> | undefined;
    const r = await runPipeline(s.ctx, 'p', {
      source: 'test',
      // The evaluator's result is in; the trigger has not fired yet: the config changes now.
      onResult: () => {
        reloading ??= reloadProject(s.ctx, { reason: 'file change' });
      },
    });
    await reloading;
    expect(isInvalid(await findPipeline(s.ctx, 'p'))).toBe(true);
    expect(r.kind).toBe('superseded');
    expect(r.kind === 'superseded' && r.run.status).toBe('FAILED');
    expect(r.kind === 'superseded' && r.run.reason).toMatch(
      /became INVALID \(config reload\) before the trigger fired/,
    );
    expect(fired(s.root)).toEqual([]);
  });

  it('a pipeline whose new definition is invalid is INVALID with the new diagnostics, not left running on the old one', async () => {
    const s = await setup();
    put(s.root, 'pipelines/p.yaml', 'name: p\narchetype: nope\ntraits:\n  a:\n    evaluator: pass\n');
    const r = await reloadProject(s.ctx);
    expect(r).toMatchObject({ applied: true, invalid: ['p'], failed: ['p'] });
    const p = await findPipeline(s.ctx, 'p');
    expect(p).toMatchObject({ status: 'INVALID', problems: [expect.objectContaining({ path: 'archetype' })] });
    expect(s.ctx.project.pipelines.has('p')).toBe(false);
    expect((await refusal(() => runPipeline(s.ctx, 'p', { source: 'test' }))).code).toBe('CONFIG_INVALID');
    expect(fired(s.root)).toEqual([]);
  });

  it('a broken archetype makes its pipelines INVALID (alerted each)', async () => {
    const s = await setup();
    put(s.root, 'archetypes/gate.yaml', 'name: gate\nrequiredTraits: [\n');
    const r = await reloadProject(s.ctx);
    expect(r).toMatchObject({ applied: true, invalid: ['no-trigger', 'p'], failed: ['no-trigger', 'p'] });
    expect(s.raised.map((a) => a.pipeline)).toEqual(['no-trigger', 'p']);
  });

  it('interlock.yaml broken or gone: the whole last good project is kept, alerted once per distinct failure', async () => {
    const s = await setup();
    const before = s.ctx.project;
    put(s.root, 'pipelines/q.yaml', Q);
    put(s.root, 'interlock.yaml', `provider: sqlite\nbogus: 1\n${ALERTS}`);

    const r = await reloadProject(s.ctx, { reason: 'SIGHUP' });
    expect(r).toMatchObject({ applied: false, added: [], removed: [], changed: [], project: before });
    expect(r.error).toContain('interlock.yaml');
    expect(r.problems.length).toBeGreaterThan(0);
    expect(s.ctx.project).toBe(before);
    expect(s.ctx.project.pipelines.has('q')).toBe(false);
    expect(s.events).toEqual([expect.objectContaining({ applied: false })]);
    expect(s.raised.map((a) => [a.kind, a.pipeline])).toEqual([['CONFIG_RELOAD_FAILED', '*']]);
    expect(lines(s.root, 'alerts.log')).toHaveLength(1);
    expect(s.log.messages('warn')[0]).toMatch(
      /^config reload \(SIGHUP\) failed: 1 error in interlock\.yaml \(interlock\.yaml:2:1 .*\); kept the last good config for every pipeline$/,
    );

    // The same failure again: logged, not alerted again. Another one (the file is gone): alerted.
    await reloadProject(s.ctx);
    expect(s.raised).toHaveLength(1);
    rmSync(join(s.root, 'interlock.yaml'));
    const gone = await reloadProject(s.ctx);
    expect(gone).toMatchObject({ applied: false });
    expect(gone.error).toContain('config file not found');
    expect(s.raised).toHaveLength(2);
    expect(s.ctx.project).toBe(before);
    expect(s.log.messages('warn')).toHaveLength(3);

    // Back: the new pipeline comes in.
    put(s.root, 'interlock.yaml', `provider: sqlite\n${ALERTS}`);
    expect(await reloadProject(s.ctx)).toMatchObject({ applied: true, added: ['q'] });
  });

  it('settings a running process cannot change keep their running values and say a restart is needed; the rest applies', async () => {
    const s = await setup(`provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n${ALERTS}`);
    put(
      s.root,
      'interlock.yaml',
      `provider: redis\nserver:\n  addr: "127.0.0.1:4000"\n  allowCommandRegistration: true\nevaluatorConcurrency: 3\n${ALERTS}`,
    );
    put(s.root, 'pipelines/q.yaml', Q);
    const r = await reloadProject(s.ctx);
    expect(r).toMatchObject({
      applied: true,
      added: ['q'],
      restartNeeded: ['provider', 'server', 'evaluatorConcurrency'],
    });
    expect(s.ctx.project.config.provider).toBe('sqlite');
    expect(s.ctx.project.config.server).toEqual({ addr: '127.0.0.1:0' });
    expect(s.ctx.project.config.evaluatorConcurrency).not.toBe(3);
    expect(s.ctx.project.pipelines.has('q')).toBe(true);
    expect(s.log.messages('warn')[0]).toContain(
      'provider, server, evaluatorConcurrency changed in interlock.yaml: kept the running values, restart to apply',
    );
  });

  it('a changed alerts block takes effect at once', async () => {
    const s = await setup('provider: sqlite\n');
    put(s.root, 'interlock.yaml', 'provider: sqlite\nalerts:\n  - type: file\n    path: ./new-alerts.log\n');
    put(s.root, 'pipelines/p.yaml', 'name: p\narchetype: [\n');
    const r = await reloadProject(s.ctx);
    expect(r.failed).toEqual(['p']);
    expect(lines(s.root, 'new-alerts.log').map((l) => (JSON.parse(l) as Alert).pipeline)).toEqual(['p']);
  });
});

describe('startConfigReloader', () => {
  it('reloads once, 300 ms after the last of several changes to watched files (fake clock), and ignores other files', async () => {
    const s = await setup();
    const results: string[] = [];
    const reloader = startConfigReloader(s.ctx, { onReload: (r) => results.push(r.summary) });
    try {
      expect(reloader.watched).toEqual(
        [s.root, join(s.root, 'archetypes'), join(s.root, 'pipelines'), join(s.root, 'evaluators')].sort(),
      );
      // Not config: the alert file, a state file beside interlock.yaml, a non-YAML file in pipelines/.
      writeFileSync(join(s.root, 'alerts.log'), 'x\n');
      writeFileSync(join(s.root, 'pipelines', 'notes.txt'), 'x\n');
      await new Promise((r) => setTimeout(r, 200)); // let those events arrive (if any would)
      expect(s.clock.pending).toBe(0);

      put(s.root, 'pipelines/q.yaml', Q);
      expect(await until(() => s.clock.pending > 0, 5000)).toBe(true);
      s.clock.advance(200);
      put(s.root, 'pipelines/q.yaml', `${Q}description: again\n`);
      // The second change restarts the wait.
      await until(() => false, 100);
      s.clock.advance(299);
      expect(results).toEqual([]);
      s.clock.advance(1);
      expect(await until(() => results.length > 0, 5000)).toBe(true);
      expect(results).toEqual(['config reload (file change): 1 added (q), 0 removed, 0 changed']);
      expect(s.ctx.project.pipelines.get('q')?.description).toBe('again');
    } finally {
      reloader.close();
    }
    expect(reloader.watched).toEqual([]);
    expect(s.clock.pending).toBe(0);
  });

  it('follows the config: a pipeline directory added to interlock.yaml is watched after the reload', async () => {
    const s = await setup();
    const reloader = startConfigReloader(s.ctx, { watchFiles: true });
    try {
      put(s.root, 'more/r.yaml', 'name: r\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n');
      put(s.root, 'interlock.yaml', `provider: sqlite\npipelineDirs: [./pipelines, ./more]\n${ALERTS}`);
      const r = await reloader.reload('SIGHUP');
      expect(r.added).toEqual(['r']);
      expect(reloader.watched).toContain(join(s.root, 'more'));
      put(s.root, 'more/t.yaml', 'name: t\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n');
      expect(await until(() => s.clock.pending > 0, 5000)).toBe(true);
      s.clock.advance(300);
      expect(await until(() => s.ctx.project.pipelines.has('t'), 5000)).toBe(true);
    } finally {
      reloader.close();
    }
  });

  it('reload() while one runs: the callers that came meanwhile share one more reload after it', async () => {
    const s = await setup();
    let reloads = 0;
    s.ctx.events.subscribe('project.reloaded', async () => {
      reloads++;
      await new Promise((r) => setTimeout(r, 20));
    });
    const reloader = startConfigReloader(s.ctx, { watchFiles: false });
    const first = reloader.reload('SIGHUP');
    const second = reloader.reload('SIGHUP');
    const third = reloader.reload('SIGHUP');
    expect(third).toBe(second);
    await Promise.all([first, second, third]);
    expect(reloads).toBe(2);
    reloader.close();
  });
});
