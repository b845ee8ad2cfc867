// End-to-end: the real built `serve` runs the watcher on second-level crons, on SQLite and on a real redis-server.
// A window opens and blocks on a trait nobody has pushed; `interlock push` of PASS fires the trigger at once and
// the window ends COMPLETED; a window nobody unblocks ends MISSED naming the trait; a failing trigger is retried per
// policy; shadow mode never fires. Fires are counted at the trigger target (a file each run appends its key to).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { BIN } from '../support/paths.js';
import { waitFor } from '../support/poll.js';
import { cli } from '../support/run-cli.js';
import { childEnv, type ServeProcess, serveProcess } from '../support/server-process.js';
import { useTempDirs } from '../support/test-cleanups.js';
import { useRedis } from '../support/use-redis.js';

const newDir = useTempDirs('interlock-watcher-e2e-');
const redis = useRedis();
const servers: ServeProcess[] = [];
const watchers: Array<{ stop(): Promise<number | null> }> = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) await w.stop();
  for (const s of servers.splice(0)) await s.stop();
});

/** `interlock watch` in `root`, resolved once it says it is watching; stop() sends SIGTERM and gives the exit code. */
async function watchProcess(root: string): Promise<{ stderr: () => string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'watch'], {
    cwd: root,
    env: childEnv({ INTERLOCK_LOG: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const handle = {
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  watchers.push(handle);
  await waitFor('interlock watch to start watching', 15_000, async () => /watching \d+ scheduled/.test(err));
  return handle;
}

type Provider = 'sqlite' | 'redis';

interface WindowView {
  key: string;
  state: string;
  attempts: Array<{ attempt: number; runId: string }>;
  end: { reason: string; detail: { state: string; cause?: string } } | null;
}

/**
 * A project with pipeline `p`: trait `upstream` is pushed (`evaluator: push`; a push with `--ttl 1s` holds for one
 * window only), a schedule every 3 seconds, and a command trigger that appends INTERLOCK_RUN_KEY to `fired` and
 * exits with the number in `exit-code` on each window's first attempt when that file exists (later attempts succeed).
 */
function project(provider: Provider, extra: { pipeline?: string; mode?: string } = {}): string {
  const root = newDir();
  const store =
    provider === 'sqlite'
      ? 'provider: sqlite\n'
      : `provider: redis\nredis:\n  addr: ${redis.server.addr}\n  keyPrefix: "w${Math.random().toString(36).slice(2)}:"\n`;
  const fired = join(root, 'fired');
  const exitFile = join(root, 'exit-code');
  writeFiles(root, {
    // A long sweep: anything that fires within a second of a push was woken by the push, not by the sweep.
    'interlock.yaml': `${store}watcher:\n  sweep: 30s\n`,
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: upstream\n',
    'pipelines/p.yaml': [
      'name: p',
      'archetype: gate',
      'traits:',
      '  upstream:',
      '    evaluator: push',
      '    ttl: 3600',
      'trigger:',
      '  type: command',
      `  command: "echo $INTERLOCK_RUN_KEY >> '${fired}'; case $INTERLOCK_RUN_KEY in *#1) if [ -e '${exitFile}' ]; then exit $(cat '${exitFile}'); fi;; esac"`,
      'schedules:',
      '  - name: fast',
      '    cron: "*/3 * * * * *"',
      extra.pipeline ?? '',
      extra.mode ? `mode: ${extra.mode}` : '',
      '',
    ].join('\n'),
  });
  return root;
}

const fires = (root: string) =>
  existsSync(join(root, 'fired')) ? readFileSync(join(root, 'fired'), 'utf8').trim().split('\n').filter(Boolean) : [];

async function windows(root: string): Promise<WindowView[]> {
  const r = await cli(['windows', 'p', '--json', '--limit', '50'], { cwd: root });
  expect(r.code, show(r)).toBe(0);
  const v = json(r) as { windows: WindowView[] } | WindowView[];
  return Array.isArray(v) ? v : v.windows;
}

async function start(root: string): Promise<ServeProcess> {
  const s = await serveProcess(root, ['--addr', '127.0.0.1:0'], { INTERLOCK_LOG: 'info' });
  servers.push(s);
  return s;
}

describe.each<Provider>(['sqlite', 'redis'])('watcher end to end (%s)', (provider) => {
  it('a window blocks on a missing push; a push of PASS fires it at once; it ends COMPLETED', async () => {
    const root = project(provider);
    const serve = await start(root);
    // A window opens and is decided NOT_READY (upstream never pushed: STALE).
    let open: WindowView | undefined;
    await waitFor('an open, blocked window', 10_000, async () => {
      open = (await windows(root)).find((w) => w.state === 'OPEN');
      return open !== undefined;
    });
    expect(fires(root)).toEqual([]);
    const t0 = Date.now();
    const push = await fetch(`${serve.url}/api/pipelines/p/traits/upstream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'PASS', ttl: '1s' }),
    });
    expect(push.status).toBe(201);
    await waitFor('the trigger to fire', 5000, async () => fires(root).length > 0);
    const latency = Date.now() - t0;
    // "At once": not at the next sweep (30 s) or the next window (3 s); the open window is the one that fired.
    expect(latency, serve.output()).toBeLessThan(1500);
    const key = fires(root)[0]?.replace(/#\d+$/, '') ?? '';
    expect(key === open?.key || key > (open?.key ?? ''), `${key} vs ${open?.key}`).toBe(true);
    await waitFor('the window to complete', 5000, async () =>
      (await windows(root)).some((w) => w.key === key && w.state === 'COMPLETED'),
    );
    // Later windows (nobody pushes again, the push expired) end MISSED naming the trait; none fired.
    await waitFor('a later window MISSED', 12_000, async () =>
      (await windows(root)).some((w) => w.key > key && w.state === 'MISSED'),
    );
    const missed = (await windows(root)).find((w) => w.key > key && w.state === 'MISSED');
    expect(missed?.end?.detail.cause).toBe('blocked');
    expect(missed?.end?.reason).toContain('upstream');
    // Each window fired at most once; only the pushed window (and the next one, if it opened within the push's 1 s
    // TTL) fired at all.
    const all = fires(root);
    expect(new Set(all).size).toBe(all.length);
    const windowsFired = new Set(all.map((f) => f.replace(/#\d+$/, '')));
    expect(windowsFired.size).toBeLessThanOrEqual(2);
    expect([...windowsFired].every((k) => k >= key)).toBe(true);
  });

  it('a failing trigger (exit 75, TRANSIENT) is retried per policy and the window completes', async () => {
    const root = project(provider, {
      pipeline: 'retry:\n  maxAttempts: 3\n  backoff: 1s\n  on: [TRANSIENT]',
    });
    writeFiles(root, { 'exit-code': '75' });
    // Keep the trait fresh from the start: every window is READY.
    await cli(['push', 'p', 'upstream', '--status', 'PASS', '--ttl', '1h'], { cwd: root });
    await start(root);
    await waitFor('a window completed after a retry', 15_000, async () =>
      (await windows(root)).some((w) => w.state === 'COMPLETED' && w.attempts.length === 2),
    );
    const w = (await windows(root)).find((x) => x.state === 'COMPLETED' && x.attempts.length === 2);
    expect(fires(root).filter((f) => f.startsWith(w?.key ?? '?'))).toEqual([`${w?.key}#1`, `${w?.key}#2`]);
  });

  it('`serve --no-watch` serves, `interlock watch` in another process watches: a push through the API wakes it via the store', async () => {
    const root = project(provider);
    const serve = await serveProcess(root, ['--addr', '127.0.0.1:0', '--no-watch'], { INTERLOCK_LOG: 'info' });
    servers.push(serve);
    const watch = await watchProcess(root);
    expect(watch.stderr()).toMatch(/leader/);
    await waitFor('an open, blocked window', 10_000, async () => (await windows(root)).some((w) => w.state === 'OPEN'));
    const t0 = Date.now();
    const res = await fetch(`${serve.url}/api/pipelines/p/traits/upstream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'PASS', ttl: '1s' }),
    });
    expect(res.status).toBe(201);
    await waitFor('the watch process to fire', 5000, async () => fires(root).length > 0);
    // Across processes: the store's change feed, well before the next sweep (30 s).
    expect(Date.now() - t0, watch.stderr()).toBeLessThan(1500);
    expect(serve.stderr()).not.toMatch(/watching/);
    expect(await watch.stop()).toBe(0);
    expect(watch.stderr()).toMatch(/stopped/);
  });

  it('shadow mode records SHADOW and never fires', async () => {
    const root = project(provider, { mode: 'shadow' });
    await cli(['push', 'p', 'upstream', '--status', 'PASS', '--ttl', '1h'], { cwd: root });
    await start(root);
    await waitFor('a SHADOW window', 10_000, async () => (await windows(root)).some((w) => w.state === 'SHADOW'));
    expect(fires(root)).toEqual([]);
  });
});
