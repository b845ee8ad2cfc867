// State badges: a word and a colour (never the colour alone).
import { h } from './dom.js';

export function badge(state: string): HTMLElement {
  return h('span', { class: `badge b-${state.toLowerCase().replace(/_/g, '-')}` }, state);
}
