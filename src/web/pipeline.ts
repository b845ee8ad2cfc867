// The pipeline page (traits, history timeline, runs, windows, trigger, operator actions) and the why view (the
// answer of `interlock why`, from GET /api/pipelines/{id}/why), refetched when the event stream names the pipeline.
import { ApiError, api, enc } from './api.js';
import { badge } from './badge.js';
import { announce, h, replace } from './dom.js';
import { compact, duration, oneLine, relative, stamp } from './format.js';
import type { Page } from './pipelines.js';
import { countdown } from './tick.js';
import {
  badgeOf,
  type HistoryEntry,
  type Pipeline,
  type Run,
  type Status,
  type StatusEntry,
  type TraitResultView,
  type Why,
  type WindowView,
} from './types.js';

const time = (at: number) => h('time', { datetime: new Date(at).toISOString() }, stamp(at));
const section = (id: string, title: string, ...body: Array<Node | null>) =>
  h('section', { 'aria-labelledby': `${id}-h`, id }, h('h2', { id: `${id}-h` }, title), ...body);
const empty = (text: string) => h('p', { class: 'muted' }, text);

function table(caption: string, head: string[], rows: HTMLTableRowElement[]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'detail' },
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h('tbody', null, rows),
    ),
  );
}

const cell = (label: string, ...content: Array<Node | string | null>) => h('td', { 'data-label': label }, ...content);

function runDuration(r: Run, now: number): string {
  const end = r.finishedAt ?? (['COMPLETED', 'FAILED', 'CANCELLED', 'BLOCKED'].includes(r.status) ? r.updatedAt : now);
  return duration(end - r.createdAt);
}

/** The why view: the lines of `interlock why`, as a list. */
export function whyBlock(v: Why): HTMLElement {
  const now = v.now.at;
  const items: Array<HTMLElement> = [];
  const w = v.window;
  if (w) {
    const deadline = w.terminal
      ? `deadline ${w.deadline.local}`
      : `deadline ${w.deadline.local} (${w.deadline.at > now ? `in ${duration(w.deadline.at - now)}` : 'passed'})`;
    items.push(
      h(
        'li',
        null,
        'window ',
        h('code', null, w.key),
        ' ',
        badge(w.state),
        ` opens ${w.open.local}, may trigger from ${w.after.local}, ${deadline} [${w.timezone}]`,
      ),
    );
    if (!w.terminal) {
      if (w.due.length) items.push(h('li', null, `due now: ${w.due.map((d) => d.what).join('; ')}`));
      else if (w.nextWake)
        items.push(h('li', null, `next wake-up ${relative(w.nextWake.at, now)}: ${w.nextWake.reason}`));
    }
    if (w.note) items.push(h('li', { class: 'muted' }, w.note));
  } else if (v.scheduled) {
    items.push(
      h(
        'li',
        null,
        v.nextWindow
          ? `no live window; next ${v.nextWindow.key} opens ${v.nextWindow.open.local}, deadline ${v.nextWindow.deadline.local}`
          : 'no live window and none will open',
      ),
    );
  } else items.push(h('li', { class: 'muted' }, 'no schedules: runs on demand only (readiness below)'));
  if (v.note) items.push(h('li', null, v.note));
  for (const b of v.blocking) {
    const since = b.blockingSince
      ? ` since ${b.blockingSince.local}${b.sinceAtLeast ? ' or earlier' : ''} (${duration(now - b.blockingSince.at)})`
      : b.state === 'STALE'
        ? ' (never evaluated)'
        : '';
    items.push(
      h(
        'li',
        { class: 'why-trait', 'data-trait': b.trait },
        h('span', { class: 'cross', 'aria-hidden': 'true' }, '✗ '),
        h('strong', null, b.trait),
        ' ',
        badge(b.state),
        `${since}: ${oneLine(b.reason)} `,
        h('code', null, `[${b.reasonCode}]`),
        h(
          'ul',
          null,
          b.value ? h('li', { class: 'muted' }, `value ${compact(b.value, 400)}`) : null,
          b.ttlLeftMs !== null
            ? h('li', { class: 'muted' }, `this result counts for ${duration(b.ttlLeftMs)} more`)
            : null,
          h('li', null, `→ ${b.unblock}`),
        ),
      ),
    );
  }
  if (v.activeRun) items.push(h('li', null, `active run ${v.activeRun.runId} `, badge(v.activeRun.status)));
  const attempts = w?.attempts ?? [];
  if (attempts.length) {
    items.push(
      h(
        'li',
        null,
        'attempts:',
        h(
          'ul',
          null,
          attempts.map((a) => {
            const outcome = a.result ?? a.run?.status ?? 'unknown';
            const detail = a.error ?? a.run?.reason ?? a.run?.trigger?.error;
            return h(
              'li',
              null,
              `#${a.attempt} ${a.runId} ${a.claimedAt.local} ${outcome}${detail ? `: ${oneLine(detail)}` : ''}`,
            );
          }),
        ),
      ),
    );
  } else if (v.lastRuns.length) {
    items.push(
      h(
        'li',
        null,
        'last runs:',
        h(
          'ul',
          null,
          v.lastRuns.map((r) => {
            const detail = r.reason ?? r.trigger?.error;
            return h('li', null, `${r.runId} ${stamp(r.createdAt)} ${r.status}${detail ? `: ${oneLine(detail)}` : ''}`);
          }),
        ),
      ),
    );
  } else items.push(h('li', { class: 'muted' }, 'no runs yet'));
  return h(
    'div',
    { class: 'why', id: 'why-answer' },
    h('p', { class: 'why-summary' }, badge(v.outcome), ' ', h('strong', null, v.summary)),
    h('ul', { class: 'why-lines' }, items),
  );
}

function traitsTable(p: Pipeline, results: TraitResultView[], status: Status, now: number): HTMLElement {
  const byTrait = new Map(results.map((r) => [r.trait, r]));
  const ttlOf = new Map(status.traits.map((t) => [t.trait, t.ttlLeftMs]));
  return table(
    'Traits and their latest results',
    ['Trait', 'Required', 'State', 'Value', 'Reason', 'Duration', 'Evaluated', 'TTL left'],
    p.traits.map((t) => {
      const r = byTrait.get(t.type);
      const ttlLeft = ttlOf.get(t.type);
      return h(
        'tr',
        { 'data-trait': t.type },
        h(
          'th',
          { scope: 'row', 'data-label': 'Trait' },
          t.type,
          t.push ? h('span', { class: 'muted' }, ' (push)') : null,
        ),
        cell('Required', t.required ? 'required' : 'optional'),
        cell('State', r ? badge(r.state) : badge('STALE')),
        cell('Value', r?.value ? h('code', null, compact(r.value)) : '—'),
        cell('Reason', r ? oneLine(r.reason ?? (r.state === 'PASS' ? 'passed' : '')) : 'never evaluated'),
        cell('Duration', r ? duration(r.durationMs) : '—'),
        cell('Evaluated', r ? time(r.evaluatedAt) : '—', r?.source === 'push' ? ' (pushed)' : ''),
        cell(
          'TTL left',
          ttlLeft !== null && ttlLeft !== undefined
            ? countdown(now + ttlLeft, p.name, 'ttl')
            : r
              ? r.state === 'STALE'
                ? 'expired'
                : 'never expires'
              : '—',
        ),
      );
    }),
  );
}

function historyList(entries: HistoryEntry[]): HTMLElement {
  if (entries.length === 0) return empty('no decisions or runs yet');
  return h(
    'ol',
    { class: 'timeline', id: 'history' },
    entries.map((e) =>
      e.type === 'decision'
        ? h(
            'li',
            { class: 'decision', 'data-outcome': e.outcome },
            time(e.decidedAt),
            ' ',
            badge(e.outcome),
            ` decision (${e.source})`,
            e.blocking.length
              ? h(
                  'ul',
                  null,
                  e.blocking.map((b) => h('li', null, h('strong', null, b.trait), ` ${b.state}: ${oneLine(b.reason)}`)),
                )
              : e.note
                ? h('span', { class: 'muted' }, ` ${e.note}`)
                : null,
          )
        : h(
            'li',
            { class: 'run' },
            time(e.at),
            ' run ',
            h('code', null, e.runId),
            ` ${e.from ?? '∅'} → `,
            badge(e.to),
            e.reason ? ` ${oneLine(e.reason)}` : '',
          ),
    ),
  );
}

function runsTable(runs: Run[], now: number): HTMLElement {
  if (runs.length === 0) return empty('never run');
  return table(
    'Runs',
    ['Run', 'Status', 'Source', 'Created', 'Duration', 'Reason'],
    runs.map((r) =>
      h(
        'tr',
        { 'data-run': r.runId },
        h('th', { scope: 'row', 'data-label': 'Run' }, h('code', null, r.runId)),
        cell('Status', badge(r.status)),
        cell('Source', r.window ? `${r.source} (${r.window.key} #${r.window.attempt})` : r.source),
        cell('Created', time(r.createdAt)),
        cell('Duration', runDuration(r, now)),
        cell('Reason', oneLine(r.reason ?? r.trigger?.error ?? '')),
      ),
    ),
  );
}

function windowsTable(windows: WindowView[]): HTMLElement {
  if (windows.length === 0) return empty('no windows');
  return table(
    'Schedule windows',
    ['Window', 'State', 'Opens', 'Deadline', 'Outcome and why'],
    windows.map((w) =>
      h(
        'tr',
        null,
        h('th', { scope: 'row', 'data-label': 'Window' }, h('code', null, w.key)),
        cell('State', badge(w.state)),
        cell('Opens', w.open.local),
        cell('Deadline', w.deadline.local),
        cell(
          'Outcome and why',
          w.end
            ? w.end.reason
            : w.lastDecision
              ? `live; last decision ${w.lastDecision.outcome}${w.lastDecision.blocking.length ? `: ${w.lastDecision.blocking.map((b) => `${b.trait} ${oneLine(b.reason)}`).join('; ')}` : ''}`
              : 'live',
        ),
      ),
    ),
  );
}

interface Loaded {
  pipeline: Pipeline;
  status: Status;
  traits: TraitResultView[];
  history: HistoryEntry[];
  runs: Run[];
  windows: WindowView[];
  why: Why;
}

async function load(name: string): Promise<Loaded> {
  const base = `/api/pipelines/${enc(name)}`;
  const [pipeline, status, traits, history, runs, windows, why] = await Promise.all([
    api<Pipeline>('GET', base),
    api<Status>('GET', `${base}/readiness`),
    api<TraitResultView[]>('GET', `${base}/traits`),
    api<HistoryEntry[]>('GET', `${base}/history?limit=50`),
    api<Run[]>('GET', `${base}/runs?limit=20`),
    api<{ windows: WindowView[] }>('GET', `${base}/windows?limit=20`).then((r) => r.windows),
    api<Why>('GET', `${base}/why`),
  ]);
  return { pipeline, status, traits, history, runs, windows, why };
}

/** The pipeline page, or only its why view (`whyOnly`). `canAct`: the operator may evaluate, run and cancel. */
export function pipelinePage(main: HTMLElement, name: string, o: { whyOnly: boolean; canAct: boolean }): Page {
  let disposed = false;
  const message = h('p', { id: 'action-result', role: 'status', 'aria-live': 'polite', class: 'muted' });
  const act = async (what: string, call: () => Promise<unknown>) => {
    message.textContent = `${what}…`;
    try {
      await call();
      message.textContent = `${what}: done`;
    } catch (err) {
      message.textContent = `${what} refused: ${err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)}`;
    }
    void render();
  };

  const render = async () => {
    let d: Loaded;
    try {
      d = await load(name);
    } catch (err) {
      if (disposed) return;
      if (err instanceof ApiError && err.status === 400) {
        const all = await api<StatusEntry[]>('GET', '/api/status').catch(() => []);
        const inv = all.find((e) => e.pipeline === name);
        if (inv && inv.outcome === 'INVALID') {
          replace(
            main,
            h('p', null, h('a', { href: '#/' }, '← Pipelines')),
            h('h1', null, name, ' ', badge('INVALID')),
            h(
              'ul',
              { class: 'reasons' },
              inv.problems.map((p) =>
                h(
                  'li',
                  null,
                  `${p.file ?? inv.source}${p.line ? `:${p.line}:${p.col ?? 1}` : ''} ${p.path}: ${p.message}`,
                ),
              ),
            ),
          );
          return;
        }
      }
      replace(
        main,
        h('h1', null, name),
        h('p', { role: 'alert' }, `could not load: ${err instanceof Error ? err.message : String(err)}`),
      );
      return;
    }
    if (disposed) return;
    const now = Date.now();
    const s = d.status;
    const focusId = document.activeElement?.id;
    const head = [
      h(
        'p',
        { class: 'crumbs' },
        h('a', { href: '#/' }, '← Pipelines'),
        o.whyOnly ? [' · ', h('a', { href: `#/pipelines/${enc(name)}` }, name)] : null,
      ),
      h('h1', null, name, ' ', h('span', { id: 'pipeline-state' }, badge(badgeOf(s)))),
      h(
        'p',
        { class: 'muted' },
        `${d.pipeline.archetype}${d.pipeline.tier !== undefined ? ` · tier ${d.pipeline.tier}` : ''} · ${d.pipeline.source}`,
        d.pipeline.description ? h('br') : null,
        d.pipeline.description ?? '',
      ),
    ];
    if (o.whyOnly) {
      replace(main, ...head, section('why', `Why: ${d.why.summary}`, whyBlock(d.why)));
      return;
    }
    const active = s.activeRun;
    const actions = o.canAct
      ? h(
          'div',
          { class: 'actions', role: 'group', 'aria-label': 'Operator actions' },
          h(
            'button',
            {
              id: 'act-evaluate',
              type: 'button',
              onclick: () => act('evaluate now', () => api('POST', `/api/pipelines/${enc(name)}/evaluate`)),
            },
            'Evaluate now',
          ),
          h(
            'button',
            {
              id: 'act-run',
              type: 'button',
              disabled: active !== null || !d.pipeline.trigger,
              onclick: () => act('run', () => api('POST', `/api/pipelines/${enc(name)}/run`)),
            },
            'Run',
          ),
          active
            ? h(
                'button',
                {
                  id: 'act-cancel',
                  type: 'button',
                  class: 'danger',
                  onclick: () => {
                    if (window.confirm(`Cancel run ${active.runId}?`)) {
                      void act('cancel', () =>
                        api('POST', `/api/runs/${enc(active.runId)}/cancel`, {
                          reason: 'cancelled from the dashboard',
                        }),
                      );
                    }
                  },
                },
                `Cancel run ${active.runId.slice(-8)}`,
              )
            : null,
          message,
        )
      : h('p', { class: 'muted' }, 'Sign in with the server token to evaluate, run or cancel.');
    replace(
      main,
      ...head,
      actions,
      section(
        'why',
        'Why',
        whyBlock(d.why),
        h('p', null, h('a', { href: `#/pipelines/${enc(name)}/why` }, 'Why view on its own')),
      ),
      section('traits', 'Traits', traitsTable(d.pipeline, d.traits, s, now)),
      section('timeline', 'History', historyList(d.history)),
      section('runs', 'Runs', runsTable(d.runs, now)),
      d.windows.length || s.scheduled ? section('windows', 'Windows', windowsTable(d.windows)) : null,
      section(
        'trigger',
        'Trigger',
        d.pipeline.trigger
          ? h('pre', { class: 'trigger', tabindex: '0' }, JSON.stringify(d.pipeline.trigger, null, 2))
          : empty('no trigger: readiness only'),
      ),
    );
    // A re-render after a live update keeps the keyboard focus where it was.
    if (focusId) document.getElementById(focusId)?.focus();
    announce(`${name}: ${badgeOf(s)}`);
  };
  void render();
  let queued = false;
  let running: Promise<void> | undefined;
  const refetch = () => {
    if (running) {
      queued = true;
      return;
    }
    running = render().finally(() => {
      running = undefined;
      if (queued && !disposed) {
        queued = false;
        refetch();
      }
    });
  };
  return {
    changed(pipeline) {
      if (pipeline === null || pipeline === name) refetch();
    },
    dispose() {
      disposed = true;
    },
  };
}
