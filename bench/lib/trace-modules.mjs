// Preload (`node --import <this file> …`) that prints `MODULE <url>` on stderr for every module the ES module
// resolver resolves, so the bench can tell which heavy dependencies a command loads. Registers itself as the hooks
// module; in the hooks thread it only provides `resolve`.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

const seen = new Set();

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (!seen.has(r.url)) {
    seen.add(r.url);
    process._rawDebug(`MODULE ${r.url}`);
  }
  return r;
}
