// `interlock init <dir>`
import { relative } from 'node:path';
import { type InitProvider, initProject } from '../../runtime/scaffold.js';
import type { Out } from '../output.js';

export async function init(
  out: Out,
  dir: string,
  opts: { provider: InitProvider; force?: boolean; startValkey?: boolean },
): Promise<number> {
  const r = initProject({ dir, provider: opts.provider, force: opts.force, startValkey: opts.startValkey });
  if (out.json) {
    out.printJson(r);
    return 0;
  }
  const rel = relative(process.cwd(), r.dir) || '.';
  out.line(`Created Interlock project in ${rel} (${opts.provider} store)`);
  for (const f of r.files) out.line(out.c.dim(`  ${f}`));
  if (r.redis)
    out.line(`Redis/Valkey at ${r.redis.addr}, keys prefixed "${r.redis.keyPrefix}" (redis: in interlock.yaml)`);
  if (r.postgres)
    out.line(
      `PostgreSQL at $DATABASE_URL, schema "${r.postgres.schema}" (postgres: in interlock.yaml; set DATABASE_URL)`,
    );
  if (r.valkey) out.line(r.valkey.started ? r.valkey.message : `Valkey: ${r.valkey.message}`);
  else if (r.redis) out.line(`Needs Redis/Valkey on ${r.redis.addr} (or run init with --start-valkey).`);
  out.line('');
  out.line('Next:');
  out.line(`  cd ${rel}`);
  out.line("  interlock evaluate example   # run the example's evaluators: READY or NOT_READY, and why");
  out.line('  interlock status             # cached readiness of every pipeline');
  return 0;
}
