// Live updates: one EventSource on /api/events; every event naming a pipeline makes its view refetch. No polling.

/** The events of the stream that name a pipeline (`store.changed` included: another process changed it). */
export const PIPELINE_EVENTS = [
  'evaluation.decided',
  'trait.pushed',
  'run.created',
  'run.transitioned',
  'window.transitioned',
  'alert.raised',
  'store.changed',
] as const;

type Listener = (pipeline: string | null) => void;

const listeners = new Set<Listener>();
let source: EventSource | undefined;

/** `fn(pipeline)` on each event naming one; `fn(null)` after a reset (refetch everything). Returns an unsubscribe. */
export function onPipelineChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(pipeline: string | null): void {
  for (const fn of listeners) fn(pipeline);
}

function setLive(text: string, state: 'on' | 'off' | 'wait'): void {
  const el = document.getElementById('live');
  if (!el) return;
  el.textContent = text;
  el.dataset.state = state;
}

/** Opens the stream (once). EventSource reconnects by itself and resends Last-Event-ID; a reset refetches all. */
export function connectLive(): void {
  if (source) return;
  const es = new EventSource('/api/events', { withCredentials: true });
  source = es;
  let opened = false;
  es.addEventListener('open', () => {
    // A reopened stream may have missed events that fell out of the server's buffer: a reset says so, but
    // a refetch on every reconnect costs little and never misses one.
    if (opened) emit(null);
    opened = true;
    setLive('live', 'on');
  });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) {
      setLive('live updates unavailable (reload to retry)', 'off');
      source = undefined;
    } else setLive('reconnecting…', 'wait');
  });
  es.addEventListener('reset', () => emit(null));
  const handle = (e: MessageEvent) => {
    try {
      const data = JSON.parse(String(e.data)) as { pipeline?: unknown };
      if (typeof data.pipeline === 'string') emit(data.pipeline);
    } catch {
      // Not JSON: nothing to refetch for (a later event or reset will bring the view up to date).
    }
  };
  for (const name of PIPELINE_EVENTS) es.addEventListener(name, handle as EventListener);
  es.addEventListener('message', handle);
}

export function disconnectLive(): void {
  source?.close();
  source = undefined;
  setLive('offline', 'off');
}
