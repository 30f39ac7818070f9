// Devices: search, filter, sort, paginate (all server-side); add,
// enable/disable/approve; CSV import with per-row errors; CSV export.
import { api, query } from '../api.js';
import { navigate, setParams } from '../app.js';
import {
  button, card, debounce, dialog, field, h, macFmt, num, pageHeader,
  statusBadge, time, toast,
} from '../ui.js';

const SORTABLE = [
  ['mac', 'MAC'], ['status', 'Status'], ['description', 'Description'],
  ['model', 'Model'], ['firmware', 'Firmware'], ['profile', 'Profile'],
  ['last_seen', 'Last seen'],
];

export async function loadProfiles() {
  try {
    const p = await api('GET', '/profiles');
    return p.profiles.map((x) => x.name);
  } catch (e) {
    return [];
  }
}

// A <select> of profiles with a "none" entry.
export function profileSelect(names, current) {
  const s = h('select', {}, h('option', { value: '' }, '(no profile)'));
  for (const n of names) s.append(h('option', { value: n, selected: n === current }, n));
  if (current && !names.includes(current))
    s.append(h('option', { value: current, selected: true }, `${current} (missing)`));
  return s;
}

// Rows of name/value inputs; returns { el, read() -> {vars, names} }.
export function varsEditor(vars) {
  const list = h('div', { class: 'vars-editor' });
  const addRow = (name = '', value = '', secret = false, hidden = false) => {
    const n = h('input', { 'aria-label': 'Variable name', value: name, placeholder: 'name',
      maxlength: 64, spellcheck: 'false', class: 'mono' });
    const v = h('input', { 'aria-label': `Value of ${name || 'the variable'}`, value,
      placeholder: hidden ? 'unchanged (secret)' : 'value', maxlength: 4096,
      type: secret ? 'password' : 'text', class: 'mono', autocomplete: 'off' });
    v.dataset.hidden = hidden ? '1' : '';
    v.dataset.original = value;
    const rm = button('Remove', () => row.remove(), 'btn btn-ghost btn-small');
    const row = h('div', { class: 'var-row' }, n, v, rm);
    list.append(row);
  };
  for (const x of vars) addRow(x.name, x.value == null ? '' : x.value, x.secret, x.value == null);
  const add = button('Add variable', () => addRow(), 'btn btn-ghost btn-small');
  return {
    el: h('div', {}, list, add),
    read() {
      const out = {};
      for (const row of list.querySelectorAll('.var-row')) {
        const [n, v] = row.querySelectorAll('input');
        if (!n.value) continue;
        if (v.dataset.hidden && v.value === '') continue; // secret left unchanged
        out[n.value] = v.value;
      }
      return out;
    },
    names() {
      return [...list.querySelectorAll('.var-row')].map((row) => row.querySelector('input').value)
        .filter(Boolean);
    },
  };
}

async function addDevice(profiles, reload) {
  const mac = h('input', { required: true, placeholder: '00:0E:08:AB:CD:EF', class: 'mono',
    spellcheck: 'false', autocapitalize: 'none' });
  const desc = h('input', { maxlength: 1024 });
  const prof = profileSelect(profiles, '');
  const vars = varsEditor([]);
  const done = await dialog('Add a device', h('div', {},
    field('MAC address', mac, 'Any notation: 000E08ABCDEF, 00:0e:08:ab:cd:ef, 000e.08ab.cdef'),
    field('Description', desc), field('Profile', prof),
    h('fieldset', { class: 'fieldset' }, h('legend', {}, 'Variables'), vars.el)), {
    submit: 'Add device',
    onsubmit: async () => {
      const r = await api('POST', '/devices', { mac: mac.value, description: desc.value,
        profile: prof.value || null, vars: vars.read() });
      return r.mac;
    },
  });
  if (done) {
    toast(`Added ${macFmt(done)}.`);
    navigate('devices', done);
  } else reload();
}

async function importCsv(reload) {
  const file = h('input', { type: 'file', accept: '.csv,text/csv', required: true });
  const update = h('input', { type: 'checkbox', id: 'imp-update' });
  const results = h('div', { class: 'import-results', 'aria-live': 'polite' });
  const send = async (dryRun) => {
    if (!file.files[0]) throw new Error('Choose a CSV file.');
    const text = await file.files[0].text();
    const { status, data } = await api('POST', `/devices/import${query({
      update: update.checked ? 1 : null, dry_run: dryRun ? 1 : null })}`, text,
    { raw: true, type: 'text/csv', withStatus: true, accept: [422] });
    results.replaceChildren();
    if (status === 422) {
      results.append(h('p', { class: 'form-error' },
        `${num(data.error_count)} problem${data.error_count === 1 ? '' : 's'} in ${num(data.rows)} rows: nothing was imported.`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Line'), h('th', {}, 'Column'), h('th', {}, 'Problem'))),
        h('tbody', {}, data.errors.map((e) => h('tr', {},
          h('td', {}, String(e.line)), h('td', {}, e.column || ''), h('td', {}, e.error)))))));
      throw new Error('Fix the file and try again.');
    }
    return data;
  };
  const check = button('Check only', async () => {
    try {
      const d = await send(true);
      results.replaceChildren(h('p', { class: 'notice notice-ok' },
        `The file is fine: ${num(d.added)} to add, ${num(d.updated)} to update.`));
    } catch (e) {
      if (!results.firstChild) results.append(h('p', { class: 'form-error' }, e.message));
    }
  }, 'btn btn-ghost');
  const done = await dialog('Import devices from CSV', h('div', {},
    h('p', { class: 'muted' }, 'Columns: mac (required), status, profile, description and var:NAME for each ' +
      'variable, in any order. An empty cell sets nothing. All rows are imported, or none.'),
    field('CSV file', file),
    h('div', { class: 'check' }, update, h('label', { for: 'imp-update' }, 'Update devices that already exist')),
    check, results), {
    submit: 'Import',
    onsubmit: async () => send(false),
  });
  if (done) {
    toast(`Imported: ${num(done.added)} added, ${num(done.updated)} updated.`);
    reload();
  }
}

async function setStatus(mac, action, reload) {
  try {
    await api('POST', `/devices/${mac}/${action}`);
    toast(`${macFmt(mac)}: ${action === 'disable' ? 'disabled' : action === 'enable' ? 'enabled' : 'approved'}.`);
  } catch (e) {
    toast(e.message, 'bad');
  }
  reload();
}

export async function renderDevices(view, r) {
  const p = r.params;
  const state = {
    q: p.get('q') || '', status: p.get('status') || '', sort: p.get('sort') || 'mac',
    order: p.get('order') || 'asc', page: parseInt(p.get('page') || '1', 10) || 1,
    per_page: parseInt(p.get('per_page') || '50', 10) || 50,
    not_seen_days: p.get('not_seen_days') || '', model: p.get('model') || '',
    profile: p.get('profile') || '',
  };
  view.dataset.title = 'Devices';
  const profiles = await loadProfiles();
  const results = h('div', { class: 'devices-results' });

  const params = () => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(state)) if (v !== '' && v != null) q.set(k, v);
    if (state.page === 1) q.delete('page');
    if (state.per_page === 50) q.delete('per_page');
    if (state.sort === 'mac') q.delete('sort');
    if (state.order === 'asc') q.delete('order');
    return q;
  };

  const load = async () => {
    setParams(params());
    let d;
    try {
      d = await api('GET', `/devices?${params()}`);
    } catch (e) {
      results.replaceChildren(h('div', { class: 'notice notice-bad', role: 'alert' }, e.message));
      return;
    }
    results.replaceChildren(renderTable(d));
  };

  const sortHeader = (key, label) => {
    const on = state.sort === key;
    const dir = on ? state.order : null;
    return h('button', { type: 'button', class: 'sort', onclick: () => {
      state.order = on && state.order === 'asc' ? 'desc' : 'asc';
      state.sort = key;
      state.page = 1;
      load();
    } }, label, h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : ''));
  };

  function renderTable(d) {
    const th = (key, label) => {
      const on = state.sort === key;
      return h('th', { scope: 'col', 'aria-sort': on ? (state.order === 'asc' ? 'ascending' : 'descending') : null },
        sortHeader(key, label));
    };
    const rows = d.devices.map((x) => h('tr', {},
      h('td', { 'data-label': 'MAC' }, h('a', { href: `#/devices/${x.mac}`, class: 'mono' }, macFmt(x.mac))),
      h('td', { 'data-label': 'Status' }, statusBadge(x.status)),
      h('td', { 'data-label': 'Description', class: 'wrap' }, x.description || ''),
      h('td', { 'data-label': 'Model' }, x.model || '—'),
      h('td', { 'data-label': 'Firmware' }, x.firmware || '—'),
      h('td', { 'data-label': 'Profile' }, x.profile || h('span', { class: 'muted' }, 'none')),
      h('td', { 'data-label': 'Last seen' }, time(x.last_seen)),
      h('td', { 'data-label': 'Actions', class: 'actions' },
        x.status === 'pending' ? button('Approve', () => setStatus(x.mac, 'approve', load), 'btn btn-small btn-primary',
          { 'aria-label': `Approve ${macFmt(x.mac)}` }) : null,
        x.status === 'enabled' ? button('Disable', () => setStatus(x.mac, 'disable', load), 'btn btn-small btn-ghost',
          { 'aria-label': `Disable ${macFmt(x.mac)}` }) : null,
        x.status === 'disabled' ? button('Enable', () => setStatus(x.mac, 'enable', load), 'btn btn-small btn-ghost',
          { 'aria-label': `Enable ${macFmt(x.mac)}` }) : null)));
    if (rows.length === 0)
      rows.push(h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No device matches.')));
    const first = d.total === 0 ? 0 : (d.page - 1) * d.per_page + 1;
    const last = Math.min(d.total, d.page * d.per_page);
    const pages = Math.max(1, Math.ceil(d.total / d.per_page));
    const perPage = h('select', { 'aria-label': 'Devices per page' },
      [25, 50, 100, 200, 500].map((n) => h('option', { value: n, selected: n === d.per_page }, `${n} per page`)));
    perPage.addEventListener('change', () => { state.per_page = parseInt(perPage.value, 10); state.page = 1; load(); });
    return h('div', {},
      h('div', { class: 'table-wrap' }, h('table', { class: 'table table-devices' },
        h('thead', {}, h('tr', {}, SORTABLE.map(([k, l]) => th(k, l)), h('th', { scope: 'col' }, 'Actions'))),
        h('tbody', {}, rows))),
      h('nav', { class: 'pager', 'aria-label': 'Pages' },
        h('span', { class: 'muted' }, `${num(first)}–${num(last)} of ${num(d.total)}`),
        perPage,
        button('Previous', () => { state.page -= 1; load(); }, 'btn btn-ghost btn-small',
          { disabled: d.page <= 1 }),
        h('span', { class: 'small' }, `Page ${num(d.page)} of ${num(pages)}`),
        button('Next', () => { state.page += 1; load(); }, 'btn btn-ghost btn-small',
          { disabled: d.page >= pages })));
  }

  const search = h('input', { type: 'search', value: state.q, placeholder: 'MAC, description or variable value',
    id: 'dev-search', spellcheck: 'false', autocapitalize: 'none' });
  search.addEventListener('input', debounce(() => { state.q = search.value.trim(); state.page = 1; load(); }, 250));
  const status = h('select', { id: 'dev-status' },
    [['', 'Any status'], ['enabled', 'Enabled'], ['pending', 'Pending approval'], ['disabled', 'Disabled']]
      .map(([v, l]) => h('option', { value: v, selected: v === state.status }, l)));
  status.addEventListener('change', () => { state.status = status.value; state.page = 1; load(); });
  const prof = h('select', { id: 'dev-profile' }, h('option', { value: '' }, 'Any profile'),
    profiles.map((n) => h('option', { value: n, selected: n === state.profile }, n)));
  prof.addEventListener('change', () => { state.profile = prof.value; state.page = 1; load(); });
  const stale = h('select', { id: 'dev-stale' },
    [['', 'Seen any time'], ['1', 'Not seen for 1 day'], ['7', 'Not seen for 7 days'],
      ['30', 'Not seen for 30 days'], ['90', 'Not seen for 90 days']]
      .map(([v, l]) => h('option', { value: v, selected: v === state.not_seen_days }, l)));
  stale.addEventListener('change', () => { state.not_seen_days = stale.value; state.page = 1; load(); });

  view.append(
    pageHeader('Devices',
      button('Add device', () => addDevice(profiles, load), 'btn btn-primary'),
      button('Import CSV', () => importCsv(load), 'btn'),
      h('a', { class: 'btn', href: '/api/v1/devices/export.csv', download: 'spaprov-devices.csv' }, 'Export CSV')),
    card(null,
      h('div', { class: 'filters', role: 'search' },
        h('div', { class: 'field field-grow' }, h('label', { for: 'dev-search' }, 'Search'), search),
        h('div', { class: 'field' }, h('label', { for: 'dev-status' }, 'Status'), status),
        h('div', { class: 'field' }, h('label', { for: 'dev-profile' }, 'Profile'), prof),
        h('div', { class: 'field' }, h('label', { for: 'dev-stale' }, 'Last seen'), stale)),
      state.model ? h('p', { class: 'small' }, `Model: ${state.model} `,
        button('clear', () => { state.model = ''; load(); }, 'btn btn-ghost btn-small')) : null,
      results));
  await load();
}

