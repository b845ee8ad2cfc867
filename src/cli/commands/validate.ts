// `interlock validate [--strict] [--stpa]`
import { type Diagnostic, formatDiagnostic } from '../../core/errors.js';
import { validateProject } from '../../runtime/validate.js';
import type { GlobalOptions, Out } from '../output.js';

const plural = (n: number, word: string) => `${n} ${word}(s)`;

export async function validate(
  out: Out,
  g: GlobalOptions,
  o: { strict?: boolean; stpa?: boolean } = {},
): Promise<number> {
  const r = validateProject(process.cwd(), g.config, { strict: o.strict === true, stpa: o.stpa === true });
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
