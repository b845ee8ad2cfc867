// `interlock validate [--strict] [--stpa] [--connect]`
import { type Diagnostic, formatDiagnostic } from '../../core/errors.js';
import { validateProject, validateProjectConnected } from '../../runtime/validate.js';
import type { GlobalOptions, Out } from '../output.js';

const plural = (n: number, word: string) => `${n} ${word}(s)`;

export async function validate(
  out: Out,
  g: GlobalOptions,
  o: { strict?: boolean; stpa?: boolean; connect?: boolean } = {},
): Promise<number> {
  const strict = o.strict === true;
  const stpa = o.stpa === true;
  const r = o.connect
    ? await validateProjectConnected(process.cwd(), g.config, { strict, stpa, env: process.env })
    : validateProject(process.cwd(), g.config, { strict, stpa });
  const code = r.valid ? 0 : 2;
  if (out.json) {
    out.printJson(r);
    return code;
  }
  // Errors first, then warnings, each marked: `file:line:col warning: field: message`.
  const show = (d: Diagnostic) => {
    const text = formatDiagnostic(d);
    out.line(d.severity === 'warning' ? (r.strict ? out.c.red(text) : out.c.yellow(text)) : out.c.red(text));
  };
  for (const d of r.errors) show(d);
  for (const d of r.warnings) show(d);
  for (const c of r.connections ?? [])
    out.line(`connection ${c.name} (${c.url}): ${c.ok ? out.c.green('ok') : out.c.red('failed')}`);
  const counts = `${plural(r.errors.length, 'error')}, ${plural(r.warnings.length, 'warning')}`;
  if (r.errors.length) {
    const blocked = r.invalidPipelines.length ? ` (INVALID, never evaluated: ${r.invalidPipelines.join(', ')})` : '';
    out.line(out.c.red(`${counts}${blocked}`));
  } else if (!r.valid) {
    out.line(out.c.red(`${counts}: warnings are errors with --strict`));
  } else {
    out.line(
      `${out.c.green('valid')}: ${plural(r.pipelines.length, 'pipeline')}, ${plural(r.archetypes.length, 'archetype')}${r.warnings.length ? `, ${plural(r.warnings.length, 'warning')}` : ''}`,
    );
  }
  return code;
}
