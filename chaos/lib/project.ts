// The chaos cases' project: one pipeline `p` with evaluator scripts, an alert file sink (./alerts.log) and a trigger
// that leaves a trace (fired.log); SQLite (default) or redis. What the cases read back is in test/support/.
import { put } from '../../test/support/files.js';
import { RECORD_TRIGGER } from '../../test/support/trigger-recorder.js';

/** Evaluator scripts every project has. */
export const BASE_EVALUATORS: Record<string, string> = {
  pass: '#!/bin/sh\ncat >/dev/null\necho \'{"status":"PASS","value":{"ok":true}}\'\n',
  fail: '#!/bin/sh\ncat >/dev/null\necho \'{"status":"FAIL","reason":"chaos: deliberately failing"}\'\n',
};

export interface TraitDef {
  type: string;
  evaluator: string;
  /** Seconds. */
  timeout?: number;
  optional?: boolean;
}

export interface ProjectOptions {
  /** `provider: sqlite` (default) or redis at addr with a key prefix. */
  redis?: { addr: string; prefix: string; connectTimeout?: number };
  /** sqlite.path (relative to the project). */
  sqlitePath?: string;
  /** Extra evaluator scripts: name → script text. */
  evaluators?: Record<string, string>;
  /** Traits of pipeline p (default: required trait `a` → pass). */
  traits?: TraitDef[];
  /** The trigger block of p (YAML); default RECORD_TRIGGER. */
  trigger?: string;
  /** Extra alert sinks (YAML list items, indented 4), beside the file sink ./alerts.log. */
  alertSinks?: string;
  /** alerts.repeatAfter (seconds). */
  repeatAfter?: number;
}

/** Writes the project into `root` and returns root. */
export function makeProject(root: string, o: ProjectOptions = {}): string {
  const traits = o.traits ?? [{ type: 'a', evaluator: 'pass' }];
  const store = o.redis
    ? `provider: redis\nredis:\n  addr: ${o.redis.addr}\n  keyPrefix: "${o.redis.prefix}"\n  connectTimeout: ${o.redis.connectTimeout ?? 2}\n`
    : `provider: sqlite\n${o.sqlitePath ? `sqlite:\n  path: ${o.sqlitePath}\n` : ''}`;
  const alerts = `alerts:\n  repeatAfter: ${o.repeatAfter ?? 3600}\n  sinks:\n    - type: file\n      path: ./alerts.log\n${o.alertSinks ?? ''}`;
  const required = traits.filter((t) => !t.optional);
  const optional = traits.filter((t) => t.optional);
  const archetype = [
    'name: gate',
    'requiredTraits:',
    ...required.map((t) => `  - type: ${t.type}`),
    ...(optional.length ? ['optionalTraits:', ...optional.map((t) => `  - type: ${t.type}`)] : []),
  ].join('\n');
  const pipeline = [
    'name: p',
    'archetype: gate',
    'traits:',
    ...traits.flatMap((t) => [
      `  ${t.type}:`,
      `    evaluator: ${t.evaluator}`,
      ...(t.timeout !== undefined ? [`    timeout: ${t.timeout}`] : []),
    ]),
  ].join('\n');
  put(root, 'interlock.yaml', `${store}${alerts}`);
  put(root, 'archetypes/gate.yaml', `${archetype}\n`);
  put(root, 'pipelines/p.yaml', `${pipeline}\n${o.trigger ?? RECORD_TRIGGER}`);
  for (const [name, text] of Object.entries({ ...BASE_EVALUATORS, ...o.evaluators }))
    put(root, `evaluators/${name}`, text);
  return root;
}
