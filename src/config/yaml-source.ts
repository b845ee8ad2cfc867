// YAML text → document with positions; maps YAML errors and schema issues to file:line:col Diagnostics.
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Diagnostic } from '../core/errors.js';
import { type CheckResult, checkSchema } from './schema.js';

export type ConfigPath = ReadonlyArray<string | number>;

/** One parsed YAML file. `data` is undefined when the file is unusable (syntax error, empty, not a mapping). */
export interface YamlSource {
  /** Path relative to the project root, as shown in diagnostics. */
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  data: Record<string, unknown> | undefined;
  /** YAML-level problems (syntax, duplicate keys, empty file, top level not a mapping). */
  diagnostics: Diagnostic[];
}

/** Dotted field path: ['traits', 'source-freshness', 'timeout'] → 'traits.source-freshness.timeout'. */
export function formatPath(path: ConfigPath): string {
  return path.map(String).join('.');
}

function kindOf(node: unknown): string {
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'an empty value' : `a ${typeof node.value}`;
  return 'something else';
}

// yaml's own wording, where it speaks to a library user rather than a config author.
function yamlMessage(code: string, message: string, text: string, pos: [number, number]): string {
  switch (code) {
    case 'DUPLICATE_KEY': {
      // pos covers only the key's first character; read the plain or quoted key up to its colon.
      const m = /^("[^"\n]*"|'[^'\n]*'|[^:#\n]*?)\s*:(?:\s|$)/.exec(text.slice(pos[0]));
      const key = m?.[1]?.replace(/^(["'])(.*)\1$/, '$2');
      return key && key.length <= 80 ? `duplicate key '${key}'` : 'duplicate key';
    }
    case 'MULTIPLE_DOCS':
      return "only one YAML document per file is allowed (found a second '---')";
    default:
      return message;
  }
}

/** Parses one YAML file. Never throws; problems become diagnostics. */
export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // uniqueKeys stays on (the default): a repeated key is an error, not a silent override.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const src: YamlSource = { file, text, doc, lineCounter, data: undefined, diagnostics: [] };
  const at = (offset: number) => lineCounter.linePos(Math.min(Math.max(offset, 0), text.length));

  for (const [list, severity] of [
    [doc.errors, 'error'],
    [doc.warnings, 'warning'],
  ] as const) {
    for (const e of list) {
      const { line, col } = at(e.pos[0]);
      src.diagnostics.push({
        file,
        line,
        col,
        path: '',
        message: yamlMessage(e.code, e.message, text, e.pos),
        severity,
      });
    }
  }
  if (doc.errors.length > 0) return src;

  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    src.diagnostics.push({
      file,
      line: 1,
      col: 1,
      path: '',
      message: 'file is empty (expected a mapping)',
      severity: 'error',
    });
    return src;
  }
  if (!isMap(contents)) {
    const { line, col } = at(contents.range?.[0] ?? 0);
    const message = `expected a mapping at the top level, got ${kindOf(contents)}`;
    src.diagnostics.push({ file, line, col, path: '', message, severity: 'error' });
    return src;
  }
  try {
    src.data = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (err) {
    // An unresolved alias or an alias bomb: yaml throws from toJS rather than reporting.
    const message = err instanceof Error ? err.message : String(err);
    src.diagnostics.push({ file, line: 1, col: 1, path: '', message, severity: 'error' });
  }
  return src;
}

function resolve(src: YamlSource, node: unknown): unknown {
  return isAlias(node) ? node.resolve(src.doc) : node;
}

/**
 * The 1-based line:col of the node at `path` (its key with `atKey`), or of the deepest ancestor that exists.
 * Keys compare as strings, so a YAML key `1:` matches path segment '1'.
 */
export function positionOf(src: YamlSource, path: ConfigPath, atKey = false): { line: number; col: number } {
  let node: unknown = src.doc.contents;
  let best: Node | null = (src.doc.contents as Node | null) ?? null;
  for (let i = 0; i < path.length; i++) {
    node = resolve(src, node);
    const seg = path[i];
    const last = i === path.length - 1;
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (pair) {
        keyNode = pair.key;
        next = pair.value;
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    if (last && atKey && keyNode) {
      best = keyNode as Node;
      break;
    }
    // A key with no value (`timeout:`) has an empty null node just past the colon: the key says more.
    const empty = isScalar(next) && next.value === null && next.range?.[0] === next.range?.[1];
    const candidate = (empty || next == null ? keyNode : next) as Node | undefined;
    if (!candidate?.range) break;
    best = candidate;
    node = next;
    if (next === undefined || next === null) break;
  }
  const offset = best?.range?.[0] ?? 0;
  return src.lineCounter.linePos(Math.min(offset, src.text.length));
}

/** A diagnostic positioned at `path` in this file. */
export function diagnosticAt(
  src: YamlSource,
  path: ConfigPath,
  message: string,
  opts: { severity?: Diagnostic['severity']; atKey?: boolean } = {},
): Diagnostic {
  const { line, col } = positionOf(src, path, opts.atKey ?? false);
  return { file: src.file, line, col, path: formatPath(path), message, severity: opts.severity ?? 'error' };
}

/** Validates the file's data against a schema; issues come back positioned and in document order. */
export function checkYaml<S extends z.ZodType>(
  src: YamlSource,
  schema: S,
): { value: z.output<S> | undefined; diagnostics: Diagnostic[] } {
  if (src.data === undefined) return { value: undefined, diagnostics: [] };
  const r: CheckResult<z.output<S>> = checkSchema(schema, src.data);
  if (r.ok) return { value: r.value, diagnostics: [] };
  const diagnostics = r.issues.map((iss) => diagnosticAt(src, iss.path, iss.message, { atKey: iss.atKey }));
  return { value: undefined, diagnostics: sortDiagnostics(diagnostics) };
}

/** Stable sort by line, then column. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.line - b.line || a.col - b.col);
}
