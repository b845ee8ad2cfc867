// Which heavy dependencies each command loads (traced by the ES module resolver): start-up must not pay for what a
// command does not use — `--version` loads none of them, `--help` only commander, `evaluate` on SQLite no
// hono/ioredis/prom-client/pino (and never the AWS SDK).
import { join } from 'node:path';
import { REPO } from '../../test/support/paths.js';
import type { BenchCase, Figure } from '../lib/figure.js';
import { code, mustRun, NODE } from '../lib/proc.js';
import { makeBenchProject } from '../lib/project.js';

const HEAVY = [
  'commander',
  'zod',
  'yaml',
  'better-sqlite3',
  'hono',
  'ioredis',
  'prom-client',
  'pino',
  'aws-sdk',
] as const;
type Heavy = (typeof HEAVY)[number];

/** The heavy dependency a module URL belongs to, if any (the hono family counts as hono). */
function heavyOf(url: string): Heavy | undefined {
  const i = url.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const rest = url.slice(i + '/node_modules/'.length).split('/');
  const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] as string);
  if (pkg === 'hono' || pkg.startsWith('@hono/')) return 'hono';
  if (pkg === '@commander-js/extra-typings' || pkg === 'commander') return 'commander';
  // The AWS SDK v3 and its smithy runtime: loaded only by a run of a glue, stepfunctions or lambda trigger.
  if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/')) return 'aws-sdk';
  return (HEAVY as readonly string[]).includes(pkg) ? (pkg as Heavy) : undefined;
}

export const importsCase: BenchCase = {
  id: 'imports',
  title: 'heavy modules each command loads',
  async run(ctx): Promise<Figure[]> {
    const p = makeBenchProject(ctx.tmp('imports'), { pipelines: 1, traits: 3, prefix: 'imp' });
    const trace = join(REPO, 'bench', 'lib', 'trace-modules.mjs');
    const commands: Array<{ args: string[]; allowed: Heavy[] }> = [
      { args: ['--version'], allowed: [] },
      { args: ['--help'], allowed: ['commander'] },
      { args: ['evaluate', p.names[0] as string], allowed: ['commander', 'zod', 'yaml', 'better-sqlite3'] },
    ];
    const seen: Record<string, { loaded: Heavy[]; modules: number; unexpected: Heavy[] }> = {};
    for (const c of commands) {
      const r = await mustRun(NODE, ['--import', trace, code.bin, ...c.args], { cwd: p.root });
      const urls = r.stderr.split('\n').flatMap((l) => (l.startsWith('MODULE ') ? [l.slice(7)] : []));
      const loaded = HEAVY.filter((h) => urls.some((u) => heavyOf(u) === h));
      seen[c.args[0] as string] = {
        loaded,
        modules: urls.length,
        unexpected: loaded.filter((h) => !c.allowed.includes(h)),
      };
    }
    const ok = Object.values(seen).every((s) => s.unexpected.length === 0);
    const show = (k: string) => `${k}: ${seen[k]?.loaded.join(', ') || 'none'} (${seen[k]?.modules} ES modules)`;
    ctx.log(Object.keys(seen).map(show).join('; '));
    return [
      {
        id: 'imports',
        what: 'heavy dependencies loaded per command (ES module resolver trace)',
        measured: Object.keys(seen).map(show).join('; '),
        floor: '—',
        ratio: null,
        target: '--version none; --help commander only; evaluate no hono/ioredis/prom-client/pino/aws-sdk',
        met: ok,
        numbers: Object.fromEntries(Object.entries(seen).map(([k, s]) => [`${k}Loads`, s.loaded.join(',') || 'none'])),
        details: seen,
      },
    ];
  },
};
