// What still parses of a document that failed its schema: the input for the semantic rules, so one pass reports
// structural and semantic problems together. Never used to run anything: a salvaged document stays invalid.
import type { z } from 'zod';

type Path = ReadonlyArray<PropertyKey>;

function isObject(v: unknown): v is Record<PropertyKey, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Deletes the value at `path` from `root`. A missing value (a required field) or an array element deletes the
 * container instead, so array indices never shift and positions stay right. False when only the root is left.
 */
function remove(root: unknown, path: Path): boolean {
  if (path.length === 0) return false;
  let parent: unknown = root;
  for (const seg of path.slice(0, -1)) {
    if (!isObject(parent)) return remove(root, path.slice(0, -1));
    parent = parent[seg as string];
  }
  const last = path[path.length - 1] as string;
  if (Array.isArray(parent) || !isObject(parent) || !(last in parent)) return remove(root, path.slice(0, -1));
  delete parent[last];
  return true;
}

/**
 * The schema's output for `data` with every offending part removed (an unknown key, a bad value, an object that
 * lacks a required field, a list with a bad element), or undefined when nothing sensible is left (a required
 * top-level field is bad). Pure: `data` is not changed.
 */
export function salvage<S extends z.ZodType>(schema: S, data: unknown): z.output<S> | undefined {
  if (!isObject(data)) return undefined;
  const copy: unknown = structuredClone(data);
  for (let round = 0; round < 16; round++) {
    const r = schema.safeParse(copy);
    if (r.success) return r.data;
    let changed = false;
    for (const iss of r.error.issues) {
      const paths: Path[] =
        iss.code === 'unrecognized_keys' ? iss.keys.map((k) => [...iss.path, k]) : [iss.path as Path];
      for (const p of paths) if (remove(copy, p)) changed = true;
    }
    if (!changed) return undefined;
  }
  return undefined;
}
