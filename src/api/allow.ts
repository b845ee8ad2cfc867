// Which methods a known path has: the Allow header of a 405 (a right path asked with the wrong method).
/** A route as declared: an upper- or lower-case method and an OpenAPI path template (`/api/runs/{runId}`). */
export interface DeclaredRoute {
  method: string;
  path: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');

/** A template as a whole-path matcher: each `{param}` is one non-empty segment, as the router matches it. */
function matcher(template: string): RegExp {
  return new RegExp(
    `^${template
      .split(/\{[^}]+\}/)
      .map(escapeRegExp)
      .join('[^/]+')}$`,
  );
}

/**
 * The methods (upper case, sorted; HEAD beside GET, as the router answers HEAD with GET) of every route whose
 * template matches `path`; [] for a path no route has.
 */
export function allowedMethods(routes: ReadonlyArray<DeclaredRoute>, path: string): string[] {
  const methods = new Set<string>();
  for (const r of routes) {
    if (!matcher(r.path).test(path)) continue;
    const m = r.method.toUpperCase();
    methods.add(m);
    if (m === 'GET') methods.add('HEAD');
  }
  return [...methods].sort();
}
