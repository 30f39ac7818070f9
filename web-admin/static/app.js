// The shell: session check, hash router, navigation, logout.
import { api, session, setUnauthenticatedHandler } from './api.js';
import { clear, errorBox, loading, toast } from './ui.js';
import { renderLogin } from './pages/login.js';
import { renderDashboard } from './pages/dashboard.js';
import { renderDevices } from './pages/devices.js';
import { renderDevice } from './pages/device.js';
import { renderProfiles } from './pages/profiles.js';
import { renderHistory } from './pages/history.js';

const main = document.getElementById('main');
const topbar = document.querySelector('.topbar');

// #/devices/000e08abcdef?x=1 -> { page: 'devices', arg: '000e08abcdef', params }
export function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, qs] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'dashboard', arg: parts[1] || null,
    params: new URLSearchParams(qs || '') };
}

export function navigate(page, arg, params) {
  let h = `#/${page}`;
  if (arg) h += `/${encodeURIComponent(arg)}`;
  const q = params ? params.toString() : '';
  if (q) h += `?${q}`;
  if (location.hash === h) render();
  else location.hash = h;
}

// Replace the query of the current page without a new history entry.
export function setParams(params) {
  const r = route();
  let h = `#/${r.page}${r.arg ? `/${encodeURIComponent(r.arg)}` : ''}`;
  const q = params.toString();
  if (q) h += `?${q}`;
  history.replaceState(null, '', h);
}

const pages = {
  dashboard: renderDashboard,
  devices: (el, r) => (r.arg ? renderDevice(el, r) : renderDevices(el, r)),
  profiles: renderProfiles,
  history: renderHistory,
};

let generation = 0;

async function render() {
  const r = route();
  const mine = ++generation;
  if (!session.account) {
    topbar.hidden = true;
    clear(main);
    renderLogin(main, () => { render(); });
    return;
  }
  topbar.hidden = false;
  document.getElementById('who').textContent = session.account;
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.page === r.page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const fn = pages[r.page] || pages.dashboard;
  clear(main).append(loading());
  try {
    const view = document.createElement('div');
    view.className = 'view';
    await fn(view, r, () => mine === generation);
    if (mine !== generation) return;
    clear(main).append(view);
    document.title = `${view.dataset.title || 'spaprov'} · spaprov admin`;
  } catch (e) {
    if (mine !== generation) return;
    clear(main).append(errorBox(e));
  }
}

async function start() {
  setUnauthenticatedHandler(() => {
    session.account = null;
    session.csrf = null;
    render();
  });
  try {
    const s = await api('GET', '/session', undefined, { noRedirect: true });
    session.account = s.account;
    session.csrf = s.csrf;
  } catch (e) {
    session.account = null;
  }
  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('DELETE', '/session'); } catch (e) { /* gone anyway */ }
    session.account = null;
    session.csrf = null;
    toast('Logged out.');
    location.hash = '#/dashboard';
    render();
  });
  window.addEventListener('hashchange', render);
  render();
}

start();
