// DOM helpers.  Everything shown goes through textContent or attribute
// setters: data from the network (User-Agents, certificate subjects,
// paths) is never parsed as HTML.

// h('a', {href: '#/x', class: 'link', onclick: fn}, 'text', child, ...)
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function')
      el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected')
      el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// "000e08abcdef" -> "00:0e:08:ab:cd:ef"
export function macFmt(mac) {
  if (typeof mac !== 'string' || !/^[0-9a-f]{12}$/.test(mac)) return mac || '';
  return mac.match(/../g).join(':');
}

const pad = (n) => String(n).padStart(2, '0');

// ISO UTC -> local "2026-11-23 16:09:43"
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function relTime(iso) {
  if (!iso) return 'never';
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (Number.isNaN(s)) return String(iso);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function time(iso) {
  return h('time', { datetime: iso || '', title: fmtTime(iso) },
    iso ? relTime(iso) : 'never');
}

export function num(n) {
  return Number(n || 0).toLocaleString('en-US');
}

const OUTCOME_TONE = {
  ok: 'ok', enabled: 'ok', 'unknown-device': 'warn', pending: 'warn',
  'pending-approval': 'warn', disabled: 'muted', 'no-profile': 'warn',
  spoof: 'bad', 'untrusted-certificate': 'bad', 'render-error': 'bad',
  'database-error': 'bad',
};

export function badge(text, tone) {
  const t = tone || OUTCOME_TONE[text] || (text ? 'bad' : 'muted');
  return h('span', { class: `badge badge-${t}` }, text || '—');
}

export function statusBadge(status) {
  return badge(status, OUTCOME_TONE[status] || 'muted');
}

// A table: columns [{title, cell: row => node|string, class}], rows [].
export function table(columns, rows, opts = {}) {
  const head = h('tr', {}, columns.map((c) =>
    h('th', { scope: 'col', class: c.class }, c.head || c.title)));
  const body = h('tbody', {});
  for (const r of rows) {
    body.append(h('tr', {}, columns.map((c) =>
      h('td', { class: c.class, 'data-label': c.title }, c.cell(r)))));
  }
  if (rows.length === 0) {
    body.append(h('tr', {}, h('td', { class: 'empty', colspan: columns.length },
      opts.empty || 'Nothing to show.')));
  }
  return h('div', { class: 'table-wrap' },
    h('table', { class: `table ${opts.class || ''}` },
      opts.caption ? h('caption', { class: 'sr-only' }, opts.caption) : null,
      h('thead', {}, head), body));
}

export function card(title, ...body) {
  return h('section', { class: 'card' },
    title ? h('h2', { class: 'card-title' }, title) : null, ...body);
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h('div', { class: 'field' },
    h('label', { for: id }, label), input,
    hint ? h('p', { class: 'hint' }, hint) : null);
}

export function button(label, onclick, cls = 'btn', attrs = {}) {
  return h('button', { type: 'button', class: cls, onclick, ...attrs }, label);
}

export function toast(message, tone = 'ok') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: `toast toast-${tone}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), 5000);
}

// A modal <dialog>; resolves with the value returned by onsubmit or null.
export function dialog(title, content, actions) {
  return new Promise((resolve) => {
    const errors = h('p', { class: 'form-error', role: 'alert' });
    const form = h('form', { method: 'dialog', class: 'dialog-body' },
      content, errors,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-ghost', value: 'cancel',
          onclick: () => { d.close(); } }, 'Cancel'),
        h('button', { type: 'submit', class: `btn ${actions.danger ? 'btn-danger' : 'btn-primary'}` },
          actions.submit || 'Save')));
    const d = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' },
      h('h2', { id: 'dlg-title', class: 'dialog-title' }, title), form);
    let result = null;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errors.textContent = '';
      try {
        result = actions.onsubmit ? await actions.onsubmit() : true;
        d.close();
      } catch (e) {
        errors.textContent = e.message || String(e);
      }
    });
    d.addEventListener('close', () => { d.remove(); resolve(result); });
    document.body.append(d);
    d.showModal();
    const first = d.querySelector('input, select, textarea');
    if (first) first.focus();
  });
}

export function confirmDialog(title, text, submit = 'Delete') {
  return dialog(title, h('p', {}, text), { submit, danger: true });
}

export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' },
    h('h1', {}, title), h('div', { class: 'page-actions' }, ...actions));
}

export function loading() {
  return h('p', { class: 'loading', role: 'status' }, 'Loading…');
}

export function errorBox(e) {
  return h('div', { class: 'notice notice-bad', role: 'alert' },
    e && e.message ? e.message : String(e));
}
