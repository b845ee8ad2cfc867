// The pipelines page: one row per pipeline (state, blocking traits and why, TTLs, window, run, last decision),
// filtered by text and state, each row refetched when the event stream names its pipeline.
import { ApiError, api, enc } from './api.js';
import { badge } from './badge.js';
import { announce, h, replace } from './dom.js';
import { oneLine, relative, stamp } from './format.js';
import { countdown } from './tick.js';
import { type Badge, badgeOf, type Status, type StatusEntry } from './types.js';

const STATES: Badge[] = ['READY', 'NOT_READY', 'STALE', 'INVALID'];

export interface Page {
  /** The event stream named `pipeline` (null: refetch all). */
  changed(pipeline: string | null): void;
  dispose(): void;
}

function blockingCell(s: StatusEntry): HTMLElement {
  if (s.outcome === 'INVALID') {
    return h(
      'ul',
      { class: 'reasons' },
      s.problems.slice(0, 3).map((p) => h('li', null, h('code', null, p.path || '(file)'), ' ', p.message)),
      s.problems.length > 3 ? h('li', { class: 'muted' }, `… ${s.problems.length - 3} more`) : null,
    );
  }
  if (s.blocking.length === 0) return h('span', { class: 'muted' }, s.note ?? '—');
  return h(
    'ul',
    { class: 'reasons' },
    s.blocking.map((b) =>
      h(
        'li',
        { 'data-trait': b.trait },
        h('strong', null, b.trait),
        ' ',
        badge(b.state),
        ' ',
        h('span', { class: 'reason' }, oneLine(b.reason)),
      ),
    ),
  );
}

function ttlCell(s: Status, now: number): HTMLElement {
  const ttls = s.traits.filter((t) => t.required && t.ttlLeftMs !== null);
  if (ttls.length === 0) return h('span', { class: 'muted' }, '—');
  return h(
    'ul',
    { class: 'ttls' },
    ttls.map((t) => h('li', null, `${t.trait} `, countdown(now + (t.ttlLeftMs as number), s.pipeline, 'ttl'))),
  );
}

function windowCell(s: Status, now: number): HTMLElement {
  const scheds = s.scheduled?.schedules ?? [];
  if (scheds.length === 0) return h('span', { class: 'muted' }, 'on demand');
  return h(
    'ul',
    { class: 'windows' },
    scheds.map((sc) => {
      if (sc.current) {
        return h(
          'li',
          null,
          h('span', { class: 'wkey' }, sc.current.key),
          ' ',
          badge(sc.current.state),
          ' deadline ',
          sc.deadlineInMs !== null
            ? countdown(now + sc.deadlineInMs, s.pipeline, 'deadline')
            : sc.current.deadline.local,
        );
      }
      if (sc.next) return h('li', null, `next ${sc.next.key} opens ${relative(sc.next.open.at, Date.now())}`);
      return h('li', { class: 'muted' }, `${sc.schedule}: none will open`);
    }),
  );
}

function row(s: StatusEntry): HTMLTableRowElement {
  const now = Date.now();
  const state = badgeOf(s);
  const link = h('a', { href: `#/pipelines/${enc(s.pipeline)}` }, s.pipeline);
  if (s.outcome === 'INVALID') {
    return h(
      'tr',
      { 'data-pipeline': s.pipeline, 'data-state': state },
      h('th', { scope: 'row', 'data-label': 'Pipeline' }, link),
      h('td', { 'data-label': 'Archetype' }, h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': 'State', class: 'state' }, badge(state)),
      h('td', { 'data-label': 'Blocking', class: 'blocking' }, blockingCell(s)),
      h('td', { 'data-label': 'TTL' }, '—'),
      h('td', { 'data-label': 'Window' }, '—'),
      h('td', { 'data-label': 'Run' }, '—'),
      h('td', { 'data-label': 'Last decision' }, '—'),
    );
  }
  const run = s.activeRun;
  return h(
    'tr',
    { 'data-pipeline': s.pipeline, 'data-state': state },
    h('th', { scope: 'row', 'data-label': 'Pipeline' }, link),
    h('td', { 'data-label': 'Archetype' }, s.archetype),
    h('td', { 'data-label': 'State', class: 'state' }, badge(state)),
    h('td', { 'data-label': 'Blocking', class: 'blocking' }, blockingCell(s)),
    h('td', { 'data-label': 'TTL' }, ttlCell(s, now)),
    h('td', { 'data-label': 'Window' }, windowCell(s, now)),
    h(
      'td',
      { 'data-label': 'Run' },
      run ? [badge(run.status), ' ', h('code', null, run.runId.slice(-8))] : h('span', { class: 'muted' }, 'none'),
    ),
    h(
      'td',
      { 'data-label': 'Last decision' },
      s.lastEvaluatedAt === null
        ? h('span', { class: 'muted' }, 'never')
        : h(
            'time',
            { datetime: new Date(s.lastEvaluatedAt).toISOString(), title: stamp(s.lastEvaluatedAt) },
            stamp(s.lastEvaluatedAt),
          ),
    ),
  );
}

/** Renders the pipelines page into `main`. */
export function pipelinesPage(main: HTMLElement): Page {
  const entries = new Map<string, StatusEntry>();
  const rows = new Map<string, HTMLTableRowElement>();
  const text = h('input', {
    id: 'filter-text',
    type: 'search',
    placeholder: 'name, archetype, trait, reason…',
    autocomplete: 'off',
  });
  const state = h(
    'select',
    { id: 'filter-state' },
    h('option', { value: '' }, 'any state'),
    STATES.map((s) => h('option', { value: s }, s)),
  );
  const counts = h('p', { id: 'counts', class: 'muted', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'pipelines', id: 'pipelines' },
    h('caption', { class: 'visually-hidden' }, 'Pipelines and their readiness'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        [
          'Pipeline',
          'Archetype',
          'State',
          'Blocking traits',
          'TTL of required traits',
          'Window',
          'Active run',
          'Last decision',
        ].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    tbody,
  );
  replace(
    main,
    h('h1', null, 'Pipelines'),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
      h('label', { for: 'filter-text' }, 'Filter'),
      text,
      h('label', { for: 'filter-state' }, 'State'),
      state,
    ),
    counts,
    h('div', { class: 'table-wrap' }, table),
  );

  const haystack = (s: StatusEntry) =>
    (s.outcome === 'INVALID'
      ? [s.pipeline, ...s.problems.map((p) => p.message)]
      : [s.pipeline, s.archetype, ...s.blocking.flatMap((b) => [b.trait, b.reason])]
    )
      .join('\n')
      .toLowerCase();
  const visible = (s: StatusEntry) => {
    const q = text.value.trim().toLowerCase();
    return (state.value === '' || badgeOf(s) === state.value) && (q === '' || haystack(s).includes(q));
  };
  const applyFilter = () => {
    let shown = 0;
    const by: Record<string, number> = {};
    for (const [name, s] of entries) {
      const v = visible(s);
      const r = rows.get(name);
      if (r) r.hidden = !v;
      if (v) shown++;
      by[badgeOf(s)] = (by[badgeOf(s)] ?? 0) + 1;
    }
    const summary = STATES.filter((k) => by[k])
      .map((k) => `${by[k]} ${k}`)
      .join(', ');
    counts.textContent = `${shown} of ${entries.size} pipelines shown${summary ? ` (${summary})` : ''}`;
  };
  text.addEventListener('input', applyFilter);
  state.addEventListener('change', applyFilter);

  let disposed = false;
  /** Rows rendered at once before the first paint; the rest follow in chunks (a long list never blocks the page). */
  const FIRST = 60;
  const CHUNK = 200;
  let generation = 0;
  const renderAll = (list: StatusEntry[], rendered: () => void) => {
    const gen = ++generation;
    entries.clear();
    rows.clear();
    for (const s of list) entries.set(s.pipeline, s);
    const addRows = (from: number, to: number) => {
      const frag = document.createDocumentFragment();
      for (const listed of list.slice(from, to)) {
        // The newest view: a live update may have replaced it before its chunk came.
        const s = entries.get(listed.pipeline) ?? listed;
        const r = row(s);
        rows.set(s.pipeline, r);
        frag.appendChild(r);
      }
      tbody.appendChild(frag);
    };
    tbody.replaceChildren();
    addRows(0, FIRST);
    for (const s of list.slice(FIRST)) rows.set(s.pipeline, undefined as unknown as HTMLTableRowElement);
    rendered();
    let at = FIRST;
    const more = () => {
      if (gen !== generation || disposed) return;
      addRows(at, at + CHUNK);
      at += CHUNK;
      if (at < list.length) setTimeout(more, 0);
      else applyFilter();
    };
    if (at < list.length) setTimeout(more, 0);
    applyFilter();
  };

  const loadAll = async () => {
    try {
      const list = await api<StatusEntry[]>('GET', '/api/status');
      if (disposed) return;
      renderAll(list, () => {
        if (!performance.getEntriesByName('interlock:table-rendered').length) {
          performance.mark('interlock:table-rendered');
        }
      });
    } catch (err) {
      if (!disposed && !(err instanceof ApiError && err.status === 401)) {
        counts.textContent = `could not load the pipelines: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  };

  // One refetch per pipeline in flight; a change arriving meanwhile refetches once more afterwards.
  const inFlight = new Map<string, boolean>();
  const refresh = async (name: string) => {
    if (inFlight.has(name)) {
      inFlight.set(name, true);
      return;
    }
    inFlight.set(name, false);
    try {
      const s = await api<StatusEntry>('GET', `/api/pipelines/${enc(name)}/readiness`).catch(async (err) => {
        if (err instanceof ApiError && err.status === 404) return null;
        if (err instanceof ApiError && err.status === 400) {
          // INVALID: the list entry carries the problems.
          const all = await api<StatusEntry[]>('GET', '/api/status');
          return all.find((e) => e.pipeline === name) ?? null;
        }
        throw err;
      });
      if (disposed) return;
      const old = rows.get(name);
      if (s !== null && rows.has(name) && old === undefined) {
        // Not rendered yet: its chunk renders the newest view.
        entries.set(name, s);
        return;
      }
      if (s === null) {
        old?.remove();
        rows.delete(name);
        entries.delete(name);
      } else {
        const prev = entries.get(name);
        entries.set(name, s);
        const r = row(s);
        rows.set(name, r);
        if (old) old.replaceWith(r);
        else {
          const after = [...rows.keys()].sort((a, b) => a.localeCompare(b)).find((n) => n.localeCompare(name) > 0);
          const next = after ? rows.get(after) : undefined;
          if (next?.isConnected) tbody.insertBefore(r, next);
          else tbody.appendChild(r);
        }
        if (prev && badgeOf(prev) !== badgeOf(s)) announce(`${name} is now ${badgeOf(s)}`);
      }
      applyFilter();
    } catch {
      // The next event or a reload brings it up to date; the row keeps what it showed.
    } finally {
      const again = inFlight.get(name);
      inFlight.delete(name);
      if (again && !disposed) void refresh(name);
    }
  };

  void loadAll();
  return {
    changed(pipeline) {
      if (pipeline === null) void loadAll();
      else void refresh(pipeline);
    },
    dispose() {
      disposed = true;
    },
  };
}
