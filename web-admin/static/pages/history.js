// History: the resync ledger with filters, and the audit trail.
import { api, query } from '../api.js';
import { setParams } from '../app.js';
import { badge, button, card, fmtTime, h, macFmt, pageHeader, table } from '../ui.js';

const OUTCOMES = ['ok', 'no-certificate', 'untrusted-certificate', 'malformed-certificate',
  'generic-certificate', 'no-mac-in-certificate', 'spoof', 'disabled', 'pending-approval',
  'unknown-device', 'no-profile', 'render-error', 'database-error', 'method-not-allowed',
  'body-too-large'];

function ledgerColumns() {
  return [
    { title: 'Time', class: 'nowrap', cell: (x) => h('span', { title: x.ts }, fmtTime(x.ts)) },
    { title: 'Device', cell: (x) => h('div', {},
      x.mac ? h('a', { href: `#/devices/${x.mac}`, class: 'mono' }, macFmt(x.mac)) : h('span', { class: 'muted' }, 'no identity'),
      x.description ? h('div', { class: 'muted small' }, x.description) : null) },
    { title: 'Listener', cell: (x) => h('div', {}, x.listener, h('div', { class: 'muted small' }, x.remote_addr)) },
    { title: 'Outcome', cell: (x) => h('div', {}, badge(x.outcome), h('div', { class: 'muted small' }, `HTTP ${x.status}`)) },
    { title: 'Model / firmware', cell: (x) => h('div', {}, x.model || '—', h('div', { class: 'muted small' }, x.firmware || '')) },
    { title: 'TLS', cell: (x) => h('div', {}, x.tls_version || '—', h('div', {}, h('code', { class: 'small cipher' }, x.cipher || ''))) },
    { title: 'User-Agent', class: 'wrap', cell: (x) => h('code', { class: 'ua' }, x.user_agent || '') },
    { title: 'Path / detail', class: 'wrap', cell: (x) => h('div', {}, h('code', {}, x.path || ''),
      x.detail ? h('div', { class: 'muted small' }, x.detail) : null) },
  ];
}

function auditColumns() {
  return [
    { title: 'Time', cell: (x) => fmtTime(x.ts) },
    { title: 'Who', cell: (x) => x.account || h('span', { class: 'muted' }, '—') },
    { title: 'From', cell: (x) => h('code', {}, x.remote_addr || '') },
    { title: 'Action', cell: (x) => badge(x.action, /failure|delete|rm/.test(x.action) ? 'warn' : 'info') },
    { title: 'Target', cell: (x) => (/^[0-9a-f]{12}$/.test(x.target || '')
      ? h('a', { href: `#/devices/${x.target}`, class: 'mono' }, macFmt(x.target)) : x.target || '') },
    { title: 'Detail', class: 'wrap', cell: (x) => x.detail || '' },
  ];
}

function input(id, label, value, attrs = {}) {
  const el = h('input', { id, name: id, value: value || '', spellcheck: 'false', autocapitalize: 'none', ...attrs });
  return [el, h('div', { class: 'field' }, h('label', { for: id }, label), el)];
}

export async function renderHistory(view, r) {
  const p = r.params;
  const tab = p.get('tab') === 'audit' ? 'audit' : 'ledger';
  view.dataset.title = tab === 'audit' ? 'Audit trail' : 'History';
  const results = h('div', {});
  const more = h('div', { class: 'more' });
  let next = null;
  let rows = [];

  const [mac, macField] = input('h-mac', 'MAC', p.get('mac'), { class: 'mono', placeholder: 'any notation' });
  const [listener, listenerField] = input('h-listener', 'Listener', p.get('listener'));
  const outcome = h('select', { id: 'h-outcome' }, h('option', { value: '' }, 'Any outcome'),
    OUTCOMES.map((o) => h('option', { value: o, selected: o === p.get('outcome') }, o)));
  const [status, statusField] = input('h-status', 'HTTP status', p.get('status'), { inputmode: 'numeric', class: 'input-narrow' });
  const [since, sinceField] = input('h-since', 'Since', p.get('since'), { placeholder: '2h, 7d, 2026-11-23' });
  const [until, untilField] = input('h-until', 'Until', p.get('until'), { placeholder: 'now' });

  const filters = () => ({ mac: mac.value.trim(), listener: listener.value.trim(),
    outcome: outcome.value, status: status.value.trim(), since: since.value.trim(),
    until: until.value.trim() });

  const load = async (append) => {
    const f = tab === 'audit' ? {} : filters();
    if (!append) {
      const q = new URLSearchParams(query(f).slice(1));
      if (tab === 'audit') q.set('tab', 'audit');
      setParams(q);
    }
    let d;
    try {
      d = await api('GET', `/${tab === 'audit' ? 'audit' : 'history'}${query({ ...f, before: append ? next : null, limit: 100 })}`);
    } catch (e) {
      results.replaceChildren(h('div', { class: 'notice notice-bad', role: 'alert' }, e.message));
      more.replaceChildren();
      return;
    }
    rows = append ? rows.concat(d.rows) : d.rows;
    next = d.next;
    results.replaceChildren(table(tab === 'audit' ? auditColumns() : ledgerColumns(), rows,
      { empty: 'No matching requests.', class: 'table-history' }));
    more.replaceChildren(...(next ? [button('Load older entries', () => load(true), 'btn btn-ghost')] : []));
  };

  const form = h('form', { class: 'filters', role: 'search' },
    macField, listenerField,
    h('div', { class: 'field' }, h('label', { for: 'h-outcome' }, 'Outcome'), outcome),
    statusField, sinceField, untilField,
    h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply'),
      button('Reset', () => { for (const el of [mac, listener, status, since, until]) el.value = ''; outcome.value = ''; load(false); }, 'btn btn-ghost')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(false); });
  outcome.addEventListener('change', () => load(false));

  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    h('a', { href: '#/history', role: 'tab', 'aria-selected': String(tab === 'ledger'), class: 'tab' }, 'Resync ledger'),
    h('a', { href: '#/history?tab=audit', role: 'tab', 'aria-selected': String(tab === 'audit'), class: 'tab' }, 'Audit trail'));
  view.append(pageHeader(tab === 'audit' ? 'Audit trail' : 'History'), tabs,
    card(null, tab === 'audit' ? h('p', { class: 'muted' }, 'Who changed what: logins, devices, profiles, imports, accounts.') : form,
      results, more));
  await load(false);
}
