// One device: identity, variables (secrets masked until revealed), the
// profile rendered as the phone would get it, its pinned certificate (with
// Re-pin), the listener its firmware should use, and its resync history.
import { api } from '../api.js';
import { navigate } from '../app.js';
import {
  badge, button, card, confirmDialog, dialog, field, fmtTime, h, macFmt, num,
  pageHeader, statusBadge, table, time, toast,
} from '../ui.js';
import { loadProfiles, profileSelect, varsEditor } from './devices.js';

function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [
    h('dt', {}, k), h('dd', {}, v === null || v === undefined || v === '' ? '—' : v)]));
}

async function edit(dev, reload) {
  const profiles = await loadProfiles();
  const prof = profileSelect(profiles, dev.profile);
  const desc = h('input', { value: dev.description || '', maxlength: 1024 });
  const vars = varsEditor(dev.vars);
  const before = dev.vars.map((v) => v.name);
  const saved = await dialog(`Edit ${macFmt(dev.mac)}`, h('div', {},
    field('Description', desc), field('Profile', prof),
    h('fieldset', { class: 'fieldset' }, h('legend', {}, 'Variables'),
      dev.secrets_shown ? null : h('p', { class: 'hint' }, 'Secret values are not shown: leave them empty to keep them.'),
      vars.el)), {
    submit: 'Save',
    onsubmit: async () => {
      const names = vars.names();
      await api('PATCH', `/devices/${dev.mac}`, {
        description: desc.value, profile: prof.value || null, vars: vars.read(),
        unset: before.filter((n) => !names.includes(n)),
      });
      return true;
    },
  });
  if (saved) {
    toast('Saved.');
    reload();
  }
}

async function remove(dev) {
  const ok = await confirmDialog(`Delete ${macFmt(dev.mac)}?`,
    'The device and its variables are deleted. Its resyncs stay in the history. ' +
    'If the phone asks again it is recorded as pending.');
  if (!ok) return;
  try {
    await api('DELETE', `/devices/${dev.mac}`);
    toast(`Deleted ${macFmt(dev.mac)}.`);
    navigate('devices');
  } catch (e) {
    toast(e.message, 'bad');
  }
}

async function action(dev, what, reload) {
  try {
    await api('POST', `/devices/${dev.mac}/${what}`);
    toast(`${macFmt(dev.mac)}: ${what}d.`);
  } catch (e) {
    toast(e.message, 'bad');
  }
  reload();
}

async function repin(dev, reload) {
  const ok = await confirmDialog(`Re-pin ${macFmt(dev.mac)}?`,
    'The pinned client certificate is forgotten: the next verified certificate the phone presents is pinned. ' +
    'Do this after replacing the phone or its certificate.', 'Re-pin');
  if (!ok) return;
  try {
    const res = await api('POST', `/devices/${dev.mac}/repin`);
    toast(res.had_pin ? `${macFmt(dev.mac)}: pin removed; the next certificate is pinned.`
      : `${macFmt(dev.mac)} had no pin.`);
  } catch (e) {
    toast(e.message, 'bad');
  }
  reload();
}

function pinCard(dev, reload) {
  const p = dev.pin;
  return card('Pinned certificate',
    p ? h('div', { class: 'card-tools' }, button('Re-pin', () => repin(dev, reload), 'btn btn-small', { id: 'repin' })) : null,
    p ? dl([
      ['Fingerprint (SHA-256)', h('code', { class: 'fingerprint' }, p.fingerprint)],
      ['Serial', p.serial ? h('code', {}, p.serial) : null],
      ['Issuer', p.issuer], ['First seen', fmtTime(p.first_seen)], ['Pinned by', p.pinned_by],
    ]) : h('p', { class: 'muted' }, 'No certificate pinned: the next verified certificate the phone presents is pinned.'));
}

function steerCard(dev) {
  const s = dev.steer;
  if (!s) return card('Recommended listener', h('p', { class: 'muted' }, 'No configuration loaded.'));
  const lr = dev.last_resync;
  return card('Recommended listener',
    s.misplaced ? h('div', { class: 'notice notice-warn', role: 'status' },
      `This phone last came in on ${lr ? lr.listener : '?'} (CA ${lr ? lr.ca : '?'}); ` +
      `its firmware should use ${s.recommended_listener || `a listener of CA ${s.recommended_ca}`}.`) : null,
    dl([
      ['Family', s.family || 'unknown model'],
      ['Recommended CA', s.recommended_ca ? badge(s.recommended_ca, 'info') : null],
      ['Recommended listener', s.recommended_listener],
      ['Profile_Rule', s.profile_rule ? h('code', { class: 'rule' }, s.profile_rule)
        : h('span', { class: 'muted' }, s.rule_problem || '—')],
      ['Why', s.reason],
    ]));
}

function historyTable(rows) {
  return table([
    { title: 'Time', class: 'nowrap', cell: (x) => h('span', { title: x.ts }, fmtTime(x.ts)) },
    { title: 'Listener', cell: (x) => h('div', {}, x.listener, h('div', { class: 'muted small' }, x.remote_addr)) },
    { title: 'Outcome', cell: (x) => h('div', {}, badge(x.outcome), h('div', { class: 'muted small' }, `HTTP ${x.status}`)) },
    { title: 'TLS', cell: (x) => h('div', {}, x.tls_version || '—', h('div', {}, h('code', { class: 'small cipher' }, x.cipher || ''))) },
    { title: 'Firmware', cell: (x) => x.firmware || '—' },
    { title: 'User-Agent', class: 'wrap', cell: (x) => h('code', { class: 'ua' }, x.user_agent || '') },
    { title: 'Path / detail', class: 'wrap', cell: (x) => h('div', {}, h('code', {}, x.path || ''),
      x.detail ? h('div', { class: 'muted small' }, x.detail) : null) },
  ], rows, { empty: 'This phone has not asked for its profile yet.', class: 'table-history' });
}

export async function renderDevice(view, r) {
  const mac = r.arg;
  const reveal = r.params.get('reveal') === '1';
  const reload = () => navigate('devices', mac, reveal ? new URLSearchParams('reveal=1') : null);
  const [dev, rendered, hist] = await Promise.all([
    api('GET', `/devices/${encodeURIComponent(mac)}${reveal ? '?reveal=1' : ''}`),
    api('GET', `/devices/${encodeURIComponent(mac)}/profile${reveal ? '?reveal=1' : ''}`),
    api('GET', `/history?mac=${encodeURIComponent(mac)}&limit=50`),
  ]);
  view.dataset.title = macFmt(dev.mac);
  const lr = dev.last_resync;

  const actions = [
    button('Edit', () => edit(dev, reload), 'btn btn-primary'),
    dev.status === 'pending' ? button('Approve', () => action(dev, 'approve', reload), 'btn') : null,
    dev.status === 'enabled' ? button('Disable', () => action(dev, 'disable', reload), 'btn') : null,
    dev.status === 'disabled' ? button('Enable', () => action(dev, 'enable', reload), 'btn') : null,
    button('Delete', () => remove(dev), 'btn btn-danger-ghost'),
  ];

  const secrets = dev.vars.some((v) => v.secret);
  const varsTable = table([
    { title: 'Name', cell: (v) => h('code', {}, v.name) },
    { title: 'Value', class: 'wrap', cell: (v) => (v.value === null
      ? h('span', { class: 'masked', 'aria-label': 'hidden secret' }, '••••••••')
      : h('code', {}, v.value)) },
    { title: '', cell: (v) => (v.secret ? badge('secret', 'muted') : '') },
  ], dev.vars, { empty: 'No variables.' });

  const out = rendered.output != null
    ? h('pre', { class: 'code', tabindex: '0', 'aria-label': 'Rendered profile' }, rendered.output)
    : h('div', { class: 'notice notice-warn' }, rendered.error || 'Cannot render the profile.');

  view.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/devices' }, 'Devices'), ' / ', macFmt(dev.mac)),
    pageHeader(macFmt(dev.mac), ...actions),
    h('p', { class: 'subtitle' }, statusBadge(dev.status), ' ', dev.description || h('span', { class: 'muted' }, 'No description')),
    h('div', { class: 'grid-2' },
      card('Identity', dl([
        ['MAC', h('code', {}, macFmt(dev.mac))],
        ['Model', dev.model], ['Serial', dev.serial], ['Firmware', dev.firmware],
        ['Certificate subject', dev.cert_subject], ['Certificate issuer', dev.cert_issuer],
        ['Profile', dev.profile ? h('a', { href: `#/profiles/${encodeURIComponent(dev.profile)}` }, dev.profile) : null],
        ['Registered', fmtTime(dev.created)], ['Changed', fmtTime(dev.updated)],
        ['Last seen', dev.last_seen ? h('span', {}, fmtTime(dev.last_seen), ' (', time(dev.last_seen), ')') : 'never'],
      ])),
      card('Last resync', lr ? dl([
        ['Time', fmtTime(lr.ts)], ['Outcome', badge(lr.outcome)],
        ['Listener', `${lr.listener} (${lr.ca})`], ['From', h('code', {}, lr.remote_addr)],
        ['TLS', `${lr.tls_version || '?'} ${lr.cipher || ''}`],
        ['User-Agent', h('code', { class: 'ua' }, lr.user_agent || '')],
        lr.detail ? ['Detail', lr.detail] : null,
      ]) : h('p', { class: 'muted' }, 'Never seen.'))),
    h('div', { class: 'grid-2' }, pinCard(dev, reload), steerCard(dev)),
    card('Variables',
      secrets ? h('div', { class: 'card-tools' }, reveal
        ? button('Hide secrets', () => navigate('devices', mac), 'btn btn-ghost btn-small')
        : button('Reveal secrets', () => navigate('devices', mac, new URLSearchParams('reveal=1')),
          'btn btn-ghost btn-small')) : null,
      varsTable),
    card(`Profile${rendered.profile ? ` “${rendered.profile}”` : ''} as the phone gets it`, out),
    card(`Resync history (${num(hist.rows.length)}${hist.next ? '+' : ''})`, historyTable(hist.rows),
      hist.next ? h('p', {}, h('a', { href: `#/history?mac=${dev.mac}` }, 'All requests of this phone')) : null),
  );
}
