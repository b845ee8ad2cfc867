// Build: compile TypeScript to dist/, copy the non-TS assets (SQL migrations, init templates), bundle the dashboard
// (src/web, plain TypeScript modules) with Vite into dist/web.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
  stdio: 'inherit',
});

// Copy every non-.ts file under src/ (migrations/*.sql, lua/*.lua, templates/**) beside the compiled code.
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (p !== join(root, 'src/web')) copyAssets(p);
    } else if (!name.endsWith('.ts')) {
      const out = join(root, 'dist', relative(join(root, 'src'), p));
      mkdirSync(dirname(out), { recursive: true });
      cpSync(p, out, { preserveTimestamps: true });
    }
  }
}
copyAssets(join(root, 'src'));
if (!existsSync(join(root, 'dist/cli/main.js'))) {
  console.error('build: dist/cli/main.js missing');
  process.exit(1);
}

// The dashboard: type-checked with the DOM library (tsconfig.web.json), bundled by Vite (no framework, no CDN).
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.web.json')], {
  stdio: 'inherit',
});
const { build } = await import('vite');
await build({
  configFile: false,
  root: join(root, 'src/web'),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: join(root, 'dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // No inline script anywhere: the page runs under script-src 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
if (!existsSync(join(root, 'dist/web/index.html'))) {
  console.error('build: dist/web/index.html missing');
  process.exit(1);
}

// Regenerate the published JSON Schemas from the zod schemas (the json-schema test fails if they drift).
const { writeJsonSchemas } = await import(join(root, 'dist/config/json-schema.js'));
writeJsonSchemas(join(root, 'schemas'));
