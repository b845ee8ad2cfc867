// Test services: real redis-server processes on free ports (single servers and a 3-node cluster), stopped by pid.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './poll.js';

const HOST = '127.0.0.1';

/**
 * Throws unless redis-server and redis-cli are installed. Service-backed tests never skip silently: in CI
 * (process.env.CI) and locally alike, a missing server fails the run with what to install.
 */
export function requireRedis(): void {
  const missing = ['redis-server', 'redis-cli'].filter((bin) => spawnSync(bin, ['--version']).status !== 0);
  if (missing.length === 0) return;
  const where = process.env.CI ? 'CI must provide it' : 'install it to run these tests';
  throw new Error(`${missing.join(' and ')} not found on PATH (${where}): apt-get install redis-server`);
}

/** True when `port` (and, for a cluster node, port + 10000, its bus port) can be bound on 127.0.0.1 now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port in 20000–45000 (so port + 10000, a cluster bus port, is valid too). Random rather than port 0:
 * several test files start servers at once, and the kernel's ephemeral range is also where clients connect from.
 */
export async function freePort(opts: { withBus?: boolean } = {}): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 25000);
    if ((await canBind(port)) && (!opts.withBus || (await canBind(port + 10000)))) return port;
  }
  throw new Error('no free port found');
}

/** Sends one inline command and returns the raw reply text, or throws (connection refused, timeout). */
export function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: HOST, port });
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply from ${HOST}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(`${command}\r\n`));
    sock.on('data', (d) => {
      data += d;
      // A simple string/error ends at the first CRLF; a bulk string ($len) ends after its payload.
      const m = /^\$(\d+)\r\n/.exec(data);
      if ((m && data.length >= m[0].length + Number(m[1]) + 2) || (!m && data.includes('\r\n'))) {
        clearTimeout(timer);
        sock.end();
        resolve(data);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** One redis-server process. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  get addr(): string {
    return `${HOST}:${this.port}`;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts a server on a free port (its own temp --dir, no persistence, loopback only) and waits for PING.
   * '{dir}' in extraArgs stands for that directory.
   */
  static async start(opts: { port?: number; extraArgs?: string[]; withBus?: boolean } = {}): Promise<RedisServer> {
    requireRedis();
    const port = opts.port ?? (await freePort({ withBus: opts.withBus }));
    const dir = mkdtempSync(join(tmpdir(), `interlock-redis-${port}-`));
    const server = new RedisServer(port, dir, opts.extraArgs ?? []);
    await server.spawn();
    return server;
  }

  private async spawn(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      ...this.extraArgs.map((a) => a.replaceAll('{dir}', this.dir)),
    ];
    this.output = '';
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    try {
      await waitFor(`redis-server on ${this.addr}`, 10_000, async () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${this.output.slice(-500)}`);
        // With --requirepass the server answers NOAUTH: it is up all the same.
        return /^(\+PONG|-NOAUTH)/.test(await rawCommand(this.port, 'PING'));
      });
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Stops the process by its pid: SIGTERM, then SIGKILL after a grace period. Resolves once it has exited. */
  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (graceMs <= 0) {
      process.kill(child.pid, 'SIGKILL');
      await exited;
      return;
    }
    process.kill(child.pid, 'SIGTERM');
    const killer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGKILL');
      }
    }, graceMs);
    await exited;
    clearTimeout(killer);
  }

  /** Sends a signal to the server's pid (SIGSTOP freezes it: connections stay open, nothing answers). */
  signal(sig: NodeJS.Signals): void {
    if (this.child?.pid === undefined) throw new Error(`redis-server on ${this.addr} is not running`);
    process.kill(this.child.pid, sig);
  }

  /** Kills the server at once (SIGKILL by pid, no shutdown): a crash. Resolves once it has exited. */
  async kill(): Promise<void> {
    await this.stop(0);
  }

  /** Stops the server and starts it again on the same port (same dir; no data survives: persistence is off). */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts a single redis-server. */
export function startRedis(opts: { extraArgs?: string[] } = {}): Promise<RedisServer> {
  return RedisServer.start(opts);
}

/** Three masters, no replicas, every slot assigned. */
export interface RedisCluster {
  nodes: RedisServer[];
  /** Seeds as host:port, for `cluster:` options. */
  seeds: string[];
  /** Stops every node and removes their directories. */
  destroy(): Promise<void>;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts three `--cluster-enabled yes` servers on free ports, joins them with `redis-cli --cluster create`
 * (no replicas) and waits until every node reports cluster_state:ok.
 */
export async function startCluster(): Promise<RedisCluster> {
  requireRedis();
  const nodes: RedisServer[] = [];
  const destroy = async () => {
    await Promise.all(nodes.map((n) => n.destroy()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      // Sequential: each node's port and bus port must be free at once, and the three must differ.
      const port = await freePort({ withBus: true });
      nodes.push(
        await RedisServer.start({
          port,
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            '{dir}/nodes.conf',
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => n.addr), '--cluster-replicas', '0', '--cluster-yes'],
      30_000,
    );
    await waitFor('cluster_state:ok', 15_000, async () => {
      const infos = await Promise.all(nodes.map((n) => rawCommand(n.port, 'CLUSTER INFO')));
      return infos.every((i) => i.includes('cluster_state:ok'));
    });
  } catch (e) {
    await destroy();
    throw e;
  }
  return { nodes, seeds: nodes.map((n) => n.addr), destroy };
}
