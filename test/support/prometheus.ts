// Debian's Prometheus tools for the metrics tests: `promtool check metrics` on an exposition, and a real `prometheus`
// server (loopback, free port, its own temp config and storage) scraping a target every second, stopped by pid.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './exit-cleanups.js';
import { waitFor } from './poll.js';
import { freePort } from './redis.js';

/**
 * Throws unless promtool and prometheus are installed. Never skips silently: in CI and locally alike, a missing tool
 * fails the run with what to install (`.ci/run` installs the package when missing).
 */
export function requirePrometheus(): void {
  const missing = ['promtool', 'prometheus'].filter((bin) => spawnSync(bin, ['--version']).status !== 0);
  if (missing.length === 0) return;
  const where = process.env.CI ? 'CI must provide it' : 'install it to run these tests';
  throw new Error(`${missing.join(' and ')} not found on PATH (${where}): apt-get install prometheus`);
}

/** `promtool check metrics` over `exposition` (stdin): its exit status and what it said (problems, one a line). */
export function promtoolCheckMetrics(exposition: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  pid: number;
  /** Instant query through the HTTP API: the result vector (empty when nothing matches yet). */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** What the server printed (its log), for failure messages. */
  output(): string;
  /** SIGTERM by pid, SIGKILL after 5 s; then removes its config and storage. */
  stop(): Promise<void>;
}

/**
 * Starts `prometheus` on a free loopback port with a temp config scraping `target` (`host:port`) at `path` every
 * second (with `Authorization: Bearer <token>` when given) and a temp storage dir; resolves once /-/ready says so.
 */
export async function startPrometheus(o: { target: string; path?: string; token?: string }): Promise<PrometheusServer> {
  requirePrometheus();
  const dir = mkdtempSync(join(tmpdir(), 'interlock-prometheus-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: interlock',
    `    metrics_path: ${o.path ?? '/metrics'}`,
    ...(o.token !== undefined ? ['    authorization:', '      type: Bearer', `      credentials: ${o.token}`] : []),
    '    static_configs:',
    `      - targets: ['${o.target}']`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const pid = child.pid as number;
  const offExit = onExit(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    offExit();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`prometheus ready on ${url}`, 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${out}`);
      const r = await fetch(`${url}/-/ready`).catch(() => undefined);
      return r?.status === 200;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    pid,
    output: () => out,
    stop,
    async query(promql) {
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await r.json()) as { status: string; data?: { result: never[] }; error?: string };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error ?? r.status}`);
      return body.data?.result ?? [];
    },
  };
}
