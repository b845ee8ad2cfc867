// A real Chromium (Debian's /usr/bin/chromium) driven by playwright-core: headless, no network services of its
// own, a fresh profile in a temp dir removed on close. Missing chromium: skipped outside CI, a failure under CI.
import { existsSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';
import { tempDir } from './temp-dir.js';

/** Where Debian installs it (`.ci/run` installs the package `chromium` when it is missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** True when the tests may skip for want of chromium: only when not under CI and it is not installed. */
export function chromiumMissing(): boolean {
  return !existsSync(CHROMIUM) && process.env.CI !== 'true';
}

export interface LaunchedBrowser {
  /** The browser's one context (its profile is the fresh temp dir): open pages with `context.newPage()`. */
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Launches chromium with a fresh `--user-data-dir`. Throws (never skips) when it is missing: callers decide with
 * {@link chromiumMissing} beforehand, so under CI a missing browser fails the test.
 */
export async function launchChromium(
  o: { viewport?: { width: number; height: number } } = {},
): Promise<LaunchedBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  const { chromium } = await import('playwright-core');
  const profile = tempDir('interlock-chromium-');
  try {
    // playwright passes the profile as --user-data-dir itself (it refuses the flag in args).
    const context = await chromium.launchPersistentContext(profile.dir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: 60_000,
      viewport: o.viewport ?? { width: 1280, height: 800 },
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        profile.cleanup();
      },
    };
  } catch (err) {
    profile.cleanup();
    throw err;
  }
}
