// Use-case: `interlock init` — scaffold a new project with the starter archetypes, an example pipeline and evaluators.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InterlockError } from '../core/errors.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TEMPLATES = join(HERE, 'templates');
/** The package's published JSON Schemas (repo root `schemas/`). */
const SCHEMAS = join(HERE, '..', '..', 'schemas');

/** The stores `init --provider` can set up. */
export type InitProvider = 'sqlite' | 'redis' | 'postgres';

export interface InitOptions {
  dir: string;
  force?: boolean;
  provider?: InitProvider;
  /** Try to start a local Valkey container with Docker. */
  startValkey?: boolean;
}

export interface InitResult {
  dir: string;
  files: string[];
  /** With --provider redis: the address and key prefix the project will use. */
  redis?: { addr: string; keyPrefix: string };
  /** With --provider postgres: the schema the project will use (the URL comes from $DATABASE_URL). */
  postgres?: { schema: string };
  /** What happened with --start-valkey, for the user. */
  valkey?: { started: boolean; message: string };
}

/** Where a new Redis project points: the default local server. */
export const INIT_REDIS_ADDR = 'localhost:6379';

/**
 * `interlock:<project>:` for a project directory: two projects on one default Redis must not share keys. The name is
 * lower-cased and reduced to [a-z0-9._-] (anything else becomes `-`; never `{`/`}`, which would change the cluster
 * hash tag, nor `"`/`\`, which would need quoting); an empty result becomes `project`.
 */
export function redisKeyPrefixFor(dir: string): string {
  const name =
    basename(resolve(dir))
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 64) || 'project';
  return `interlock:${name}:`;
}

/**
 * `interlock_<project>` for a project directory: two projects on one database must not share tables. Lower-cased,
 * anything but [a-z0-9_] becomes `_`, at most 48 characters (the store's schema name rule).
 */
export function pgSchemaFor(dir: string): string {
  const name =
    basename(resolve(dir))
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'project';
  return `interlock_${name}`.slice(0, 48).replace(/_+$/, '');
}

function providerBlock(provider: InitProvider, keyPrefix: string, schema: string): string {
  if (provider === 'sqlite') return 'provider: sqlite\nsqlite:\n  path: .interlock/state.db';
  if (provider === 'postgres')
    return [
      'provider: postgres',
      'postgres:',
      '  # Read from the environment when the store opens (keep the password out of this file).',
      `  url: "\${DATABASE_URL}"`,
      "  # Interlock's tables live here (created at the first start); projects sharing a database need different schemas.",
      `  schema: ${schema}`,
      '  poolSize: 10',
    ].join('\n');
  return [
    'provider: redis',
    'redis:',
    `  addr: ${INIT_REDIS_ADDR}`,
    '  # Every key starts with this; projects sharing one Redis need different prefixes.',
    `  keyPrefix: "${keyPrefix}"`,
  ].join('\n');
}

export const VALKEY_COMMAND = [
  'docker',
  'run',
  '-d',
  '--name',
  'interlock-valkey',
  '-p',
  '6379:6379',
  'valkey/valkey:8',
];

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p, base) : [relative(base, p)];
  });
}

/** The files of a new project: relative path → [content, mode]. */
function projectFiles(provider: InitProvider, keyPrefix: string, schema: string): Map<string, [Buffer, number]> {
  const files = new Map<string, [Buffer, number]>();
  for (const rel of listFiles(TEMPLATES)) {
    const src = join(TEMPLATES, rel);
    let content = readFileSync(src);
    if (rel === 'interlock.yaml')
      content = Buffer.from(
        content.toString('utf8').replace('{{PROVIDER_BLOCK}}', providerBlock(provider, keyPrefix, schema)),
      );
    const target = rel === 'gitignore' ? '.gitignore' : rel;
    files.set(target, [content, statSync(src).mode & 0o777]);
  }
  for (const name of readdirSync(SCHEMAS)) {
    files.set(join('schemas', name), [readFileSync(join(SCHEMAS, name)), 0o644]);
  }
  return files;
}

/**
 * Scaffolds a project in `dir`. Refuses a directory that already holds an interlock.yaml unless `force`.
 * Files are written to a temporary sibling first and moved into place, so a failure leaves nothing half-written.
 */
export function initProject(opts: InitOptions): InitResult {
  const dir = resolve(opts.dir);
  if (existsSync(join(dir, 'interlock.yaml')) && !opts.force) {
    throw new InterlockError(
      'ALREADY_EXISTS',
      `${opts.dir} already contains an Interlock project (interlock.yaml); use --force to overwrite its files`,
      {
        file: join(dir, 'interlock.yaml'),
      },
    );
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new InterlockError('ALREADY_EXISTS', `${opts.dir} exists and is not a directory`);
  }
  const provider = opts.provider ?? 'sqlite';
  const keyPrefix = redisKeyPrefixFor(dir);
  const schema = pgSchemaFor(dir);
  const files = projectFiles(provider, keyPrefix, schema);
  const parent = dirname(dir);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (cause) {
    throw new InterlockError('IO_ERROR', `cannot create ${parent}: ${(cause as Error).message}`, { cause });
  }
  let staging: string | undefined;
  try {
    staging = mkdtempSync(join(parent, `.${basename(dir)}.init-`));
    for (const [rel, [content, mode]] of files) {
      const p = join(staging, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
      chmodSync(p, mode);
    }
    if (!existsSync(dir)) {
      renameSync(staging, dir); // atomic: the project appears whole or not at all
      staging = undefined;
    } else {
      for (const rel of files.keys()) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        renameSync(join(staging, rel), join(dir, rel));
      }
    }
  } catch (cause) {
    if (cause instanceof InterlockError) throw cause;
    throw new InterlockError('IO_ERROR', `cannot write project in ${opts.dir}: ${(cause as Error).message}`, { cause });
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
  const result: InitResult = { dir, files: [...files.keys()].sort() };
  if (provider === 'redis') result.redis = { addr: INIT_REDIS_ADDR, keyPrefix };
  if (provider === 'postgres') result.postgres = { schema };
  if (opts.startValkey) result.valkey = startValkey();
  return result;
}

/** Runs the seed's Valkey container when a Docker engine answers; otherwise says how. Never throws. */
export function startValkey(): { started: boolean; message: string } {
  const manual = `start one yourself: ${VALKEY_COMMAND.join(' ')} (or any redis-server on localhost:6379)`;
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000, encoding: 'utf8' });
  if (info.error || info.status !== 0) {
    return { started: false, message: `no Docker engine answered; ${manual}` };
  }
  const run = spawnSync(VALKEY_COMMAND[0], VALKEY_COMMAND.slice(1), { timeout: 60_000, encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    const why = (run.stderr || run.error?.message || '').trim().split('\n').pop();
    return { started: false, message: `docker run failed (${why}); ${manual}` };
  }
  return {
    started: true,
    message: `started Valkey container interlock-valkey (${run.stdout.trim().slice(0, 12)}) on localhost:6379`,
  };
}
