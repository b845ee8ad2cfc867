// The dashboard in a real browser (issue 14): Debian's chromium, driven by playwright-core, against the real built
// `interlock serve` over an `interlock init` project, signed in with the token through the login form. Screenshots
// of each page (light and dark, 1280×800 and phone width) go to test-results/dashboard/.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, type LaunchedBrowser, launchChromium } from '../support/browser.js';
import { api } from '../support/http-request.js';
import { REPO } from '../support/paths.js';
import { cli } from '../support/run-cli.js';
import { type ServeProcess, serveProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

const TOKEN = 'dashboard-e2e-token-0123456789';
const SHOTS = join(REPO, 'test-results', 'dashboard');
const bearer = { authorization: `Bearer ${TOKEN}` };

let work: { dir: string; cleanup: () => void };
let project: string;
let serve: ServeProcess;
let chromium: LaunchedBrowser;
let context: BrowserContext;

const skip = chromiumMissing();

beforeAll(async () => {
  if (skip) return;
  work = tempDir('interlock-dashboard-');
  const init = await cli(['init', 'demo'], { cwd: work.dir });
  expect(init.code, init.stderr).toBe(0);
  project = join(work.dir, 'demo');
  // Port 0, and the token the login form asks for.
  const cfg = join(project, 'interlock.yaml');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('127.0.0.1:3000', '127.0.0.1:0'));
  serve = await serveProcess(project, [], { INTERLOCK_API_TOKEN: TOKEN });
  const ev = await api(serve.url, 'POST', '/api/pipelines/example/evaluate', {}, bearer);
  expect(ev.body.outcome, ev.text).toBe('READY');
  chromium = await launchChromium();
  context = chromium.context;
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  if (serve?.running) await serve.stop();
  work?.cleanup();
});

/** Console errors and uncaught exceptions of a page (a CSP violation shows up here too). */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A 401 while signed out is the login flow itself; anything else is a problem.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return problems;
}

async function signIn(page: Page): Promise<void> {
  // Each test signs in afresh (a test that failed half-way may have left a session behind).
  await context.clearCookies();
  await page.goto(`${serve.url}/`);
  await page.locator('#login').waitFor();
  await page.getByLabel('Token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#pipelines tbody tr').first().waitFor();
}

/** The example's row showing READY (a locator: waitForFunction evaluates a string, which the page's CSP forbids). */
const READY_ROW = '#pipelines tr[data-pipeline="example"][data-state="READY"]';

const row = (page: Page, name: string) => page.locator(`#pipelines tbody tr[data-pipeline="${name}"]`);

async function shoot(page: Page, name: string, scheme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme });
  await page.evaluate(
    `localStorage.removeItem('interlock-theme'); document.documentElement.dataset.theme = '${scheme}'`,
  );
  await page.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
}

// The machine may be busy (a real browser, serve and evaluator subprocesses): generous per-test time, strict 1 s checks.
describe.skipIf(skip)('the dashboard in chromium', { timeout: 120_000 }, () => {
  it('a wrong token is refused (no cookie); the right one signs in with an HttpOnly SameSite=Strict cookie', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(`${serve.url}/`);
    await page.locator('#login').waitFor();
    await page.getByLabel('Token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#login-error').textContent()).toBe('Wrong token.');
    expect(await context.cookies()).toEqual([]);
    await shoot(page, 'login', 'light');
    await page.getByLabel('Token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await row(page, 'example').waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'interlock_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.value).not.toContain(TOKEN);
    // The page's script cannot read it (HttpOnly), and no token was kept anywhere in the page.
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(TOKEN);
    // Signing out clears it; the form is back.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#login').waitFor();
    expect(await context.cookies()).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the pipelines page lists the example READY, filters by text and state; screenshots light, dark and phone', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await signIn(page);
    const r = row(page, 'example');
    await expect.poll(() => r.getAttribute('data-state')).toBe('READY');
    expect(await r.locator('.state').textContent()).toBe('READY');
    expect(await r.textContent()).toContain('batch-ingestion');
    // Every form control has a label; the filter is reachable by keyboard.
    for (const id of ['filter-text', 'filter-state']) {
      expect(await page.locator(`label[for="${id}"]`).count(), id).toBe(1);
    }
    await page.getByLabel('Filter').fill('no-such-pipeline');
    await expect.poll(() => r.isVisible()).toBe(false);
    await page.getByLabel('Filter').fill('ingestion');
    await expect.poll(() => r.isVisible()).toBe(true);
    await page.getByLabel('State').selectOption('NOT_READY');
    await expect.poll(() => r.isVisible()).toBe(false);
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Filter').fill('');
    await shoot(page, 'pipelines', 'light');
    await shoot(page, 'pipelines', 'dark');
    await page.setViewportSize({ width: 390, height: 844 });
    await shoot(page, 'pipelines-phone', 'light');
    // At phone width nothing overflows sideways.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('keyboard: Tab reaches the skip link first, then the navigation; Enter on a row link opens the pipeline', async () => {
    const page = await context.newPage();
    await signIn(page);
    // A fresh load (signed in by the cookie): the keyboard starts at the top of the page.
    await page.goto(`${serve.url}/`);
    await page.locator('#pipelines tbody tr').first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.locator('#pipelines a', { hasText: 'example' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#traits').waitFor();
    expect(page.url()).toMatch(/#\/pipelines\/example$/);
    await page.close();
  });

  it('an evaluator fails and an evaluation through the API turns the row NOT_READY with the trait and reason within 1 s, no reload; a pushed PASS and a new evaluation turn it back', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await signIn(page);
    const r = row(page, 'example');
    await expect.poll(() => r.getAttribute('data-state')).toBe('READY');
    await page.locator('#live[data-state="on"]').waitFor({ timeout: 10_000 });
    // A marker a reload would wipe.
    await page.evaluate('window.marker = 42');
    const marker = join(project, 'data/upstream/_SUCCESS');
    const moved = `${marker}.away`;
    renameSync(marker, moved);
    try {
      const failed = await api(serve.url, 'POST', '/api/pipelines/example/evaluate', {}, bearer);
      expect(failed.body.outcome).toBe('NOT_READY');
      const reason = failed.body.readiness.blocking[0].reason as string;
      const t0 = Date.now();
      await r.locator('li[data-trait="upstream-dependency"]').waitFor({ timeout: 1000 });
      expect(await r.getAttribute('data-state')).toBe('NOT_READY');
      expect(Date.now() - t0).toBeLessThanOrEqual(1000);
      expect(await r.locator('.blocking').textContent()).toContain(reason.replace(/\s*[\r\n]+\s*/g, ' ').trim());
      await shoot(page, 'pipelines-blocked', 'light');

      // A pushed PASS for the blocking trait: READY again.
      const pushed = await api(
        serve.url,
        'POST',
        '/api/pipelines/example/traits/upstream-dependency',
        { status: 'PASS', reason: 'marker checked by hand' },
        bearer,
      );
      expect(pushed.status, pushed.text).toBe(201);
      const t1 = Date.now();
      await page.locator(READY_ROW).waitFor({ timeout: 1000 });
      expect(Date.now() - t1).toBeLessThanOrEqual(1000);

      // NOT_READY once more, then the marker is back and a new evaluation turns it READY.
      await api(serve.url, 'POST', '/api/pipelines/example/evaluate', {}, bearer);
      await r.locator('li[data-trait="upstream-dependency"]').waitFor({ timeout: 1000 });
    } finally {
      renameSync(moved, marker);
    }
    const again = await api(serve.url, 'POST', '/api/pipelines/example/evaluate', {}, bearer);
    expect(again.body.outcome).toBe('READY');
    await page.locator(READY_ROW).waitFor({ timeout: 1000 });
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the pipeline page shows traits, the history entry of what blocked when, runs, the masked trigger; the operator evaluates and runs', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await signIn(page);
    await page.locator('#pipelines a', { hasText: 'example' }).click();
    await page.locator('#traits').waitFor();
    const history = page.locator('#history');
    // The NOT_READY decision of the previous test, naming the trait that blocked it.
    const blocked = history.locator('li.decision[data-outcome="NOT_READY"]').first();
    await blocked.waitFor();
    expect(await blocked.textContent()).toContain('upstream-dependency');
    expect(await page.locator('#traits tr[data-trait="upstream-dependency"]').textContent()).toContain('PASS');
    expect(await page.locator('#trigger pre').textContent()).toContain('"type": "command"');
    const decisions = await history.locator('li.decision').count();
    await page.getByRole('button', { name: 'Evaluate now' }).click();
    await expect.poll(() => page.locator('#action-result').textContent()).toBe('evaluate now: done');
    await expect.poll(() => history.locator('li.decision').count()).toBeGreaterThan(decisions);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => page.locator('#runs tbody tr').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('#runs tbody tr').first().locator('.badge').textContent(), { timeout: 10_000 })
      .toBe('COMPLETED');
    await shoot(page, 'pipeline', 'light');
    await shoot(page, 'pipeline', 'dark');
    await page.setViewportSize({ width: 390, height: 844 });
    await shoot(page, 'pipeline-phone', 'dark');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the why view says what `interlock why` says', async () => {
    const page = await context.newPage();
    await signIn(page);
    await page.goto(`${serve.url}/#/pipelines/example/why`);
    await page.locator('#why-answer').waitFor();
    const why = await api(serve.url, 'GET', '/api/pipelines/example/why', undefined, bearer);
    expect(await page.locator('.why-summary').textContent()).toContain(why.body.summary);
    const cliWhy = await cli(['why', 'example'], { cwd: project });
    expect(cliWhy.code, cliWhy.stderr).toBe(0);
    expect(cliWhy.stdout).toContain(why.body.summary);
    await shoot(page, 'why', 'light');
    await page.close();
  });
});

// Leftover of an earlier run of this file: its screenshots are replaced, never mixed.
if (!skip) rmSync(SHOTS, { recursive: true, force: true });
