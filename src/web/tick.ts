// Countdowns (TTL left, time to deadline) count down in the page once a second: display only, no request. When a
// TTL runs out the result turns STALE on the server without any event, so the owner refetches that pipeline once.
import { duration } from './format.js';

let expired: (pipeline: string) => void = () => {};
let timer: number | undefined;

/** A countdown span: `until` is a browser-clock instant (now + the server's "ms left", so clock skew cancels out). */
export function countdown(until: number, pipeline: string, kind: 'ttl' | 'deadline'): HTMLElement {
  const el = document.createElement('span');
  el.className = `countdown ${kind}`;
  el.dataset.until = String(until);
  el.dataset.pipeline = pipeline;
  el.dataset.kind = kind;
  render(el, Date.now());
  return el;
}

function render(el: HTMLElement, now: number): void {
  const left = Number(el.dataset.until) - now;
  if (el.dataset.kind === 'deadline')
    el.textContent = left >= 0 ? `in ${duration(left)}` : `passed ${duration(-left)} ago`;
  else el.textContent = left > 0 ? duration(left) : 'expired';
  el.classList.toggle('over', left <= 0);
}

/** Starts the one-second ticker; `onExpired(pipeline)` is called once per TTL that runs out. */
export function startTicker(onExpired: (pipeline: string) => void): void {
  expired = onExpired;
  if (timer !== undefined) return;
  timer = window.setInterval(() => {
    const now = Date.now();
    for (const el of document.querySelectorAll<HTMLElement>('[data-until]')) {
      const wasOver = el.classList.contains('over');
      render(el, now);
      if (!wasOver && el.classList.contains('over') && el.dataset.kind === 'ttl' && el.dataset.pipeline) {
        expired(el.dataset.pipeline);
      }
    }
  }, 1000);
}
