// A tiny element builder: text goes in as text nodes (never parsed as HTML), listeners as functions.

export type Child = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | undefined | null | ((e: Event) => void);

/** `h('a', { href: '#/', class: 'x', onclick: fn }, 'text', child)`: false/null/undefined attributes are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> | null = null,
  ...children: Array<Child | Child[]>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Array<Child | Child[]>): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren();
  append(el, children);
}

/** Says `text` to screen readers (a polite live region). */
export function announce(text: string): void {
  const region = document.getElementById('announce');
  if (region) region.textContent = text;
}
