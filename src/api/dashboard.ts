// The dashboard's built files (dist/web, written by scripts/build.mjs with Vite from src/web) served at / and
// /assets/*: read once, kept in memory, sent with a strict Content-Security-Policy (no inline code, nothing foreign).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { InterlockError } from '../core/errors.js';

/**
 * Where the build puts the dashboard: dist/web at the package root. This file is two levels below the root both as
 * source (src/api/) and as built code (dist/api/), so the same relative path serves a checkout and an installed package.
 */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** Nothing but our own origin; no inline script or style; no framing; no plugins. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

interface Files {
  index: Buffer;
  assets: Map<string, { body: Buffer; type: string }>;
}

/** Reads the built dashboard in `dir`, or undefined when it was not built there. */
function load(dir: string): Files | undefined {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) return undefined;
  const assets = new Map<string, { body: Buffer; type: string }>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const type = TYPES[extname(name)];
      if (type !== undefined) assets.set(name, { body: readFileSync(join(assetDir, name)), type });
    }
  }
  return { index: readFileSync(indexFile), assets };
}

const securityHeaders = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Adds GET / (the page) and GET /assets/:name (its hashed script and style) to `app`. The files are read at the
 * first request and kept; a server whose package was not built answers / with 404 saying so.
 */
export function serveDashboard(app: OpenAPIHono, dir: string = DEFAULT_DASHBOARD_DIR): void {
  let files: Files | undefined;
  const get = () => {
    files ??= load(dir);
    return files;
  };
  app.get('/', (c) => {
    const f = get();
    if (!f)
      throw new InterlockError('NOT_FOUND', 'the dashboard is not built (node scripts/build.mjs writes dist/web)');
    return c.body(new Uint8Array(f.index), 200, {
      'Content-Type': 'text/html; charset=utf-8',
      ...securityHeaders,
    });
  });
  app.get('/assets/:name', (c) => {
    const asset = get()?.assets.get(c.req.param('name'));
    if (!asset)
      throw new InterlockError('NOT_FOUND', `no dashboard asset ${JSON.stringify(c.req.param('name').slice(0, 100))}`);
    return c.body(new Uint8Array(asset.body), 200, {
      'Content-Type': asset.type,
      // The names carry a content hash: a new build has new names.
      'Cache-Control': 'public, max-age=31536000, immutable',
      ...securityHeaders,
    });
  });
}
