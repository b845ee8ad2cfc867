// `interlock validate`
import { formatDiagnostic } from '../../core/errors.js';
import { validateProject } from '../../runtime/validate.js';
import type { GlobalOptions, Out } from '../output.js';

export async function validate(out: Out, g: GlobalOptions): Promise<number> {
  const r = validateProject(process.cwd(), g.config);
  const code = r.errors.length ? 2 : 0;
  if (out.json) {
    out.printJson({ valid: r.errors.length === 0, ...r });
    return code;
  }
  for (const d of [...r.errors, ...r.warnings]) out.line(formatDiagnostic(d));
  if (r.errors.length) {
    out.line(out.c.red(`${r.errors.length} error(s), ${r.warnings.length} warning(s)`));
  } else {
    out.line(
      `${out.c.green('valid')}: ${r.pipelines.length} pipeline(s), ${r.archetypes.length} archetype(s)${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ''}`,
    );
  }
  return code;
}
