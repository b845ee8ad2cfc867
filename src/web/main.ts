// The dashboard's entry: session check and sign-in form, hash routes (#/, #/pipelines/NAME, #/pipelines/NAME/why),
// light/dark theme, the live event stream and the countdown ticker.
import './style.css';
import { ApiError, api, whenUnauthorized } from './api.js';
import { h, replace } from './dom.js';
import { connectLive, disconnectLive, onPipelineChange } from './live.js';
import { pipelinePage } from './pipeline.js';
import { type Page, pipelinesPage } from './pipelines.js';
import { startTicker } from './tick.js';
import type { Session } from './types.js';

const main = document.getElementById('main') as HTMLElement;
const signout = document.getElementById('signout') as HTMLButtonElement;
let page: Page | undefined;
let session: Session = { authRequired: false, signedIn: true, expiresAt: null };

// ---- theme: the system's preference unless the user picked one (kept in localStorage)
const themeButton = document.getElementById('theme') as HTMLButtonElement;
function applyTheme(theme: 'light' | 'dark'): void {
  document.documentElement.dataset.theme = theme;
  themeButton.textContent = theme === 'dark' ? 'Light theme' : 'Dark theme';
  themeButton.setAttribute('aria-pressed', String(theme === 'dark'));
}
const stored = localStorage.getItem('interlock-theme');
applyTheme(
  stored === 'dark' || stored === 'light'
    ? stored
    : matchMedia('(prefers-color-scheme: dark)').matches
      ? 'dark'
      : 'light',
);
themeButton.addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('interlock-theme', next);
  applyTheme(next);
});

// The skip link focuses the content without touching the hash (the hash is the route).
document.querySelector('.skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

// ---- sign-in
function loginForm(problem?: string): void {
  page?.dispose();
  page = undefined;
  disconnectLive();
  signout.hidden = true;
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = h('p', { id: 'login-error', role: 'alert', class: 'error' }, problem ?? '');
  const submit = async (e: Event) => {
    e.preventDefault();
    error.textContent = '';
    try {
      await api('POST', '/api/session', { token: input.value });
      input.value = '';
      await start();
    } catch (err) {
      error.textContent =
        err instanceof ApiError && err.status === 401
          ? 'Wrong token.'
          : `Sign-in failed: ${err instanceof Error ? err.message : String(err)}`;
      input.focus();
    }
  };
  replace(
    main,
    h(
      'form',
      { class: 'login', id: 'login', onsubmit: submit },
      h('h1', null, 'Sign in'),
      h('p', null, 'This server needs its API token (server.authToken or INTERLOCK_API_TOKEN).'),
      h('label', { for: 'token' }, 'Token'),
      input,
      h('button', { type: 'submit' }, 'Sign in'),
      error,
    ),
  );
  input.focus();
}
whenUnauthorized(() => loginForm('Your session has ended: sign in again.'));
signout.addEventListener('click', async () => {
  await api('DELETE', '/api/session').catch(() => undefined);
  loginForm();
});

// ---- routes
function route(): void {
  page?.dispose();
  const hash = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  const m = /^\/pipelines\/(.+?)(\/why)?$/.exec(hash);
  const canAct = !session.authRequired || session.signedIn;
  if (m) page = pipelinePage(main, m[1] as string, { whyOnly: m[2] !== undefined, canAct });
  else page = pipelinesPage(main);
  document.title = m ? `${m[1]} · Interlock` : 'Pipelines · Interlock';
}

let started = false;
async function start(): Promise<void> {
  try {
    session = await api<Session>('GET', '/api/session');
  } catch (err) {
    replace(
      main,
      h('p', { role: 'alert' }, `The server did not answer: ${err instanceof Error ? err.message : String(err)}`),
    );
    return;
  }
  if (session.authRequired && !session.signedIn) {
    loginForm();
    return;
  }
  signout.hidden = !session.authRequired;
  if (!started) {
    started = true;
    window.addEventListener('hashchange', () => {
      route();
      main.focus();
    });
    onPipelineChange((p) => page?.changed(p));
    startTicker((p) => page?.changed(p));
  }
  connectLive();
  route();
}

void start();
