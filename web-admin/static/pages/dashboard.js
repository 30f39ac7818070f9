// Dashboard: listeners, resyncs per hour by outcome, inventory, firmware
// census, TLS mix, stale phones, spoof attempts, untrusted issuers and
// failed handshakes; and the fleet: phones on the wrong listener, firmware
// per model against its target, recent certificate-pin mismatches.
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { api, query } from '../api.js';
import { setParams } from '../app.js';
import { badge, card, fmtTime, h, macFmt, num, pageHeader, table, time, toast } from '../ui.js';

const OUTCOME_COLORS = {
  ok: '#16a34a', 'unknown-device': '#f59e0b', 'pending-approval': '#eab308',
  disabled: '#94a3b8', 'no-profile': '#a855f7', 'render-error': '#ec4899',
  spoof: '#dc2626', 'untrusted-certificate': '#b91c1c', 'no-certificate': '#64748b',
  'generic-certificate': '#0ea5e9', 'no-mac-in-certificate': '#06b6d4',
  'malformed-certificate': '#7c3aed', 'database-error': '#111827',
};
const FALLBACK = ['#2563eb', '#0891b2', '#9333ea', '#c2410c', '#4d7c0f', '#be185d'];

function colorOf(outcome, i) {
  return OUTCOME_COLORS[outcome] || FALLBACK[i % FALLBACK.length];
}

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

// Create the chart once its box has a width; keep it sized to the box.
function mountChart(box, make) {
  let chart = null;
  const ro = new ResizeObserver(() => {
    const w = box.clientWidth;
    if (w === 0) return;
    if (!chart) chart = make(w);
    else chart.setSize({ width: w, height: chart.height });
  });
  ro.observe(box);
}

// Hourly buckets from `since` to now, one series per outcome, stacked.
function hourlyChart(d) {
  const hours = d.range === '7d' ? 168 : 24;
  const end = Math.floor(Date.now() / 3600000) * 3600;
  const xs = Array.from({ length: hours }, (_, i) => end - (hours - 1 - i) * 3600);
  const index = new Map(xs.map((x, i) => [x, i]));
  const byOutcome = new Map();
  for (const r of d.hourly) {
    const x = Date.parse(`${r.hour}:00:00Z`) / 1000;
    if (!index.has(x)) continue;
    if (!byOutcome.has(r.outcome)) byOutcome.set(r.outcome, new Array(hours).fill(0));
    byOutcome.get(r.outcome)[index.get(x)] += r.resyncs;
  }
  // ok at the bottom, then the others by volume
  const outcomes = [...byOutcome.keys()].sort((a, b) => {
    if (a === 'ok') return -1;
    if (b === 'ok') return 1;
    const sa = byOutcome.get(a).reduce((s, v) => s + v, 0);
    const sb = byOutcome.get(b).reduce((s, v) => s + v, 0);
    return sb - sa;
  });
  if (outcomes.length === 0) outcomes.push('ok'), byOutcome.set('ok', new Array(hours).fill(0));
  const raw = outcomes.map((o) => byOutcome.get(o));
  const stacked = [];
  raw.forEach((vals, i) => {
    stacked.push(vals.map((v, k) => v + (i > 0 ? stacked[i - 1][k] : 0)));
  });
  // draw the top of the stack first so that each lower band covers it
  const order = outcomes.map((_, i) => i).reverse();
  const total = raw.reduce((s, v) => s + v.reduce((a, b) => a + b, 0), 0);

  const box = h('div', { class: 'chart', role: 'img', 'aria-label':
    `Resyncs per hour over the last ${d.range === '7d' ? '7 days' : '24 hours'}: ` +
    `${total} in all, ${outcomes.map((o, i) => `${o} ${raw[i].reduce((a, b) => a + b, 0)}`).join(', ')}` });
  mountChart(box, (width) => new uPlot({
    width, height: 260,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: () => [xs[0] - 1800, xs[xs.length - 1] + 1800] },
      y: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
    axes: [
      { stroke: '#64748b', grid: { stroke: '#eef2f7' }, ticks: { stroke: '#e2e8f0' } },
      { stroke: '#64748b', grid: { stroke: '#eef2f7' }, ticks: { stroke: '#e2e8f0' },
        values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? num(v) : '')) },
    ],
    series: [
      { label: 'Hour', value: (u, v) => (v == null ? '' : fmtTime(new Date(v * 1000).toISOString()).slice(0, 16)) },
      ...order.map((i) => ({
        label: outcomes[i],
        stroke: colorOf(outcomes[i], i),
        fill: alpha(colorOf(outcomes[i], i), 0.8),
        width: 0,
        paths: uPlot.paths.bars({ size: [0.8, 40], align: 0 }),
        points: { show: false },
        value: (u, v, si, idx) => (idx == null ? '' : num(raw[i][idx])),
      })),
    ],
  }, [xs, ...order.map((i) => stacked[i])], box));
  return box;
}

// Bars: labels[i] under each, values[i] high; the census chart's style.
function barChart(labels, values, ariaLabel, height = 260) {
  const xs = labels.map((_, i) => i);
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': ariaLabel });
  mountChart(box, (width) => new uPlot({
    width, height,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: { x: { time: false, range: [-0.5, Math.max(xs.length - 0.5, 0.5)] },
      y: { range: (u, min, max) => [0, Math.max(2, Math.ceil(max * 1.15))] } },
    axes: [
      { stroke: '#64748b', size: 46, grid: { show: false }, ticks: { show: false },
        splits: () => xs, values: (u, vals) => vals.map((v) => labels[v] ?? '') },
      { stroke: '#64748b', grid: { stroke: '#eef2f7' },
        values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? num(v) : '')) },
    ],
    series: [
      {},
      { label: 'Devices', stroke: '#1d4ed8', fill: alpha('#2563eb', 0.75),
        paths: uPlot.paths.bars({ size: [0.6, 64] }), points: { show: false } },
    ],
  }, [xs, values], box));
  return box;
}

function censusChart(rows) {
  const top = [...rows].sort((a, b) => b.devices - a.devices).slice(0, 10);
  if (top.length === 0) return h('p', { class: 'muted' }, 'No phone has reported its firmware yet.');
  return barChart(top.map((r) => `${r.model || 'unknown'}\n${r.firmware || '?'}`),
    top.map((r) => r.devices),
    `Firmware census: ${top.map((r) => `${r.model || 'unknown'} ${r.firmware || '?'}: ${r.devices}`).join(', ')}`);
}

// --- the fleet ---------------------------------------------------------------

function copyButton(text) {
  return h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': 'Copy the Profile_Rule',
    onclick: async () => {
      try { await navigator.clipboard.writeText(text); toast('Profile_Rule copied.'); } catch (e) { toast('Cannot copy: select the text.', 'bad'); }
    } }, 'Copy');
}

function misplacedPanel(m) {
  return card(`Phones on the wrong listener (${num(m.total)})`,
    h('p', { class: 'muted small' }, 'The listener each phone last used serves another CA than its firmware should trust. ' +
      'Set the Profile_Rule shown (or let the profile\u2019s {{profile_rule}} do it) to move the phone.'),
    table([
      { title: 'Device', cell: (x) => h('div', {}, h('a', { href: `#/devices/${x.mac}` }, h('code', {}, macFmt(x.mac))),
        x.description ? h('div', { class: 'muted small' }, x.description) : null) },
      { title: 'Model', cell: (x) => x.model || '—' },
      { title: 'Firmware', cell: (x) => x.firmware || '—' },
      { title: 'Last listener', cell: (x) => h('span', {}, x.listener || '—', ' ', badge(x.ca, 'warn')) },
      { title: 'Recommended', cell: (x) => (x.recommended_listener
        ? h('span', {}, x.recommended_listener, ' ', badge(x.recommended_ca, 'ok'))
        : h('span', {}, badge(x.recommended_ca, 'ok'), h('div', { class: 'muted small' }, 'no listener serves it'))) },
      { title: 'Profile_Rule', class: 'wrap', cell: (x) => (x.profile_rule
        ? h('div', { class: 'rule' }, h('code', {}, x.profile_rule), ' ', copyButton(x.profile_rule))
        : h('span', { class: 'muted small' }, x.rule_problem || x.reason || '—')) },
    ], m.devices, { empty: 'Every phone is on a listener its firmware trusts.', caption: 'Phones on the wrong listener' }),
    m.total > m.devices.length ? h('p', { class: 'muted small' }, `Showing ${num(m.devices.length)} of ${num(m.total)}; ` +
      'spaprovctl device list --misplaced lists them all.') : null);
}

function firmwareModel(m) {
  const versions = m.versions.filter((v) => v.firmware);
  const silent = m.versions.filter((v) => !v.firmware).reduce((s, v) => s + v.devices, 0);
  const chart = versions.length
    ? barChart(versions.map((v) => (v.firmware === m.target ? `${v.firmware}\n(target)` : v.firmware)),
      versions.map((v) => v.devices),
      `${m.model || 'unknown'} firmware: ${versions.map((v) => `${v.firmware}: ${v.devices}`).join(', ')}` +
      (m.target ? `; target ${m.target}` : '; no target'), 180)
    : h('p', { class: 'muted small' }, 'No device of this model has reported its firmware yet.');
  return h('section', { class: 'fw-model', 'aria-label': `Firmware of ${m.model || 'unknown'}` },
    h('h3', { class: 'fw-title' }, m.model || 'unknown model'),
    stats([
      ['Target', m.target ? h('span', {}, h('code', {}, m.target), m.file ? h('span', { class: 'muted small' }, ` (${m.file})`) : null)
        : h('span', { class: 'muted' }, 'none')],
      ['Devices', num(m.devices)],
      ['Behind target', m.target ? badge(num(m.behind), m.behind ? 'warn' : 'ok') : '—'],
      ['Stuck', m.target ? badge(num(m.stuck), m.stuck ? 'bad' : 'ok') : '—'],
    ]),
    chart,
    silent ? h('p', { class: 'muted small' }, `${num(silent)} without a reported firmware.`) : null);
}

function stats(pairs) {
  return h('dl', { class: 'fw-stats' }, pairs.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

function firmwarePanel(f) {
  return card('Firmware',
    h('p', { class: 'muted small' }, `Per model: versions of the enabled phones, the target, the phones not on it, ` +
      `and those stuck (still on the same firmware after ${num(f.stuck_after)} or more downloads).`),
    f.models.length ? h('div', { class: 'fw-grid' }, f.models.map(firmwareModel))
      : h('p', { class: 'muted' }, 'No firmware reported and no target set.'),
    f.stuck_devices.length ? table([
      { title: 'Stuck device', cell: (x) => h('a', { href: `#/devices/${x.mac}` }, h('code', {}, macFmt(x.mac))) },
      { title: 'Model', cell: (x) => x.model || '—' },
      { title: 'Firmware', cell: (x) => x.firmware || '—' },
      { title: 'Target', cell: (x) => x.target || '—' },
      { title: 'Downloads', class: 'num', cell: (x) => num(x.downloads) },
      { title: 'Last download', cell: (x) => time(x.last_download) },
    ], f.stuck_devices, { caption: 'Stuck devices' }) : null);
}

function pinsPanel(p, range) {
  return card('Recent certificate pin mismatches', table([
    { title: 'Time', cell: (x) => time(x.ts) },
    { title: 'Device', cell: (x) => (x.mac ? h('a', { href: `#/devices/${x.mac}` }, h('code', {}, macFmt(x.mac))) : '—') },
    { title: 'Listener', cell: (x) => h('div', {}, x.listener, h('div', { class: 'muted small' }, x.remote_addr)) },
    { title: 'Outcome', cell: (x) => h('div', {}, badge(x.outcome, x.outcome === 'ok' ? 'warn' : 'bad'),
      h('div', { class: 'muted small' }, `HTTP ${x.status}`)) },
    { title: 'Certificate', class: 'wrap', cell: (x) => h('div', {}, h('code', { class: 'small' }, x.cert_serial || ''),
      h('div', { class: 'muted small' }, x.cert_issuer || '')) },
    { title: 'Detail', class: 'wrap', cell: (x) => x.detail || '' },
  ], p.mismatches, { empty: `No pin mismatches in the last ${range === '7d' ? '7 days' : '24 hours'}.`,
    caption: 'Recent certificate pin mismatches' }));
}

function listenersTable(listeners) {
  return table([
    { title: 'Listener', cell: (l) => h('strong', {}, l.name) },
    { title: 'CA', cell: (l) => badge(l.ca, 'info') },
    { title: 'Address', cell: (l) => h('code', {}, `${l.address}:${l.port}`) },
    { title: 'Certificate', class: 'wrap', cell: (l) => h('div', {},
      h('div', {}, l.subject || '—'), h('div', { class: 'muted small' }, `Issuer: ${l.issuer || '—'}`)) },
    { title: 'Expires', cell: (l) => {
      if (l.days_left == null) return '—';
      const tone = l.days_left < 0 ? 'bad' : l.days_left < 30 ? 'warn' : 'ok';
      return badge(l.days_left < 0 ? 'expired' : `${num(l.days_left)} days`, tone);
    } },
    { title: 'Resyncs 24 h', class: 'num', cell: (l) => h('span', {},
      num(l.resyncs_24h), h('span', { class: 'muted small' }, ` (${num(l.ok_24h)} ok)`)) },
  ], listeners, { empty: 'No listeners.' });
}

function tlsMix(rows) {
  const agg = new Map();
  let total = 0;
  for (const r of rows) {
    const k = `${r.tls_version || '?'}|${r.cipher || '?'}`;
    agg.set(k, (agg.get(k) || 0) + r.resyncs);
    total += r.resyncs;
  }
  const list = [...agg.entries()].map(([k, n]) => {
    const [v, c] = k.split('|');
    return { version: v, cipher: c, n };
  }).sort((a, b) => b.n - a.n);
  const weak = (r) => /ARCFOUR|RC4|3DES|NULL/.test(r.cipher) || r.version === 'TLS1.0' ||
    r.version === 'SSL3.0';
  return table([
    { title: 'TLS', cell: (r) => h('code', {}, r.version) },
    { title: 'Cipher suite', class: 'wrap', cell: (r) => h('span', {}, h('code', {}, r.cipher),
      weak(r) ? [' ', badge('weak', 'warn')] : null) },
    { title: 'Share', class: 'share', cell: (r) => {
      const pct = total ? (100 * r.n) / total : 0;
      const bar = h('span', { class: 'bar-fill' });
      bar.style.width = `${pct.toFixed(1)}%`;
      return h('div', { class: 'bar-cell' }, h('span', { class: 'bar' }, bar),
        h('span', { class: 'small' }, `${pct.toFixed(1)}% · ${num(r.n)}`));
    } },
  ], list, { empty: 'No TLS connections in this period.' });
}

function kpi(label, value, tone, href) {
  const inner = [h('span', { class: 'kpi-value' }, value), h('span', { class: 'kpi-label' }, label)];
  return href ? h('a', { class: `kpi kpi-${tone || 'plain'}`, href }, inner)
    : h('div', { class: `kpi kpi-${tone || 'plain'}` }, inner);
}

export async function renderDashboard(view, r) {
  const range = r.params.get('range') === '7d' ? '7d' : '24h';
  const staleDays = Math.max(1, parseInt(r.params.get('stale_days') || '7', 10) || 7);
  const [d, misplaced, firmware, pins] = await Promise.all([
    api('GET', `/dashboard${query({ range, stale_days: staleDays })}`),
    api('GET', '/fleet/misplaced'),
    api('GET', '/fleet/firmware'),
    api('GET', `/fleet/pins${query({ range })}`),
  ]);
  view.dataset.title = 'Dashboard';

  const st = Object.fromEntries(d.status.map((s) => [s.status, s.devices]));
  const sum = d.hourly.reduce((s, x) => s + x.resyncs, 0);
  const fails = d.hourly.filter((x) => x.outcome !== 'ok').reduce((s, x) => s + x.resyncs, 0);
  const spoofs = d.hourly.filter((x) => x.outcome === 'spoof').reduce((s, x) => s + x.resyncs, 0);
  const reported = d.firmware.filter((x) => x.firmware);
  const silent = d.firmware.filter((x) => !x.firmware).reduce((s, x) => s + x.devices, 0);

  const rangeBtn = (val, label) => h('button', {
    type: 'button', class: `seg ${range === val ? 'seg-on' : ''}`, 'aria-pressed': String(range === val),
    onclick: () => { const p = new URLSearchParams(r.params); p.set('range', val); location.hash = `#/dashboard?${p}`; },
  }, label);

  const staleInput = h('input', { type: 'number', min: 1, max: 3650, value: staleDays, id: 'stale-days',
    class: 'input-narrow' });
  staleInput.addEventListener('change', () => {
    const p = new URLSearchParams(r.params);
    p.set('stale_days', staleInput.value);
    location.hash = `#/dashboard?${p}`;
  });

  view.append(
    pageHeader('Dashboard', h('div', { class: 'segmented', role: 'group', 'aria-label': 'Period' },
      rangeBtn('24h', '24 hours'), rangeBtn('7d', '7 days'))),
    h('div', { class: 'kpis' },
      kpi('Enabled phones', num(st.enabled), 'plain', '#/devices?status=enabled'),
      kpi('Pending approval', num(st.pending), st.pending ? 'warn' : 'plain', '#/devices?status=pending'),
      kpi('Disabled', num(st.disabled), 'plain', '#/devices?status=disabled'),
      kpi(`Requests (${range === '7d' ? '7 d' : '24 h'})`, num(sum), 'plain', '#/history'),
      kpi('Refused or failed', num(fails), fails ? 'bad' : 'plain', '#/history'),
      kpi('Spoof attempts', num(spoofs), spoofs ? 'bad' : 'plain', '#/history?outcome=spoof')),
    card('Listeners', listenersTable(d.listeners)),
    misplacedPanel(misplaced),
    h('div', { class: 'grid-2' },
      card(`Resyncs per hour by outcome (${range === '7d' ? 'last 7 days' : 'last 24 hours'})`,
        hourlyChart(d)),
      card('Firmware census (top 10 model and firmware pairs)', censusChart(reported),
        silent ? h('p', { class: 'muted small' }, `${num(silent)} devices have not reported a firmware yet.`) : null)),
    h('div', { class: 'grid-2' },
      card('TLS versions and cipher suites', tlsMix(d.tls)),
      card(`Phones not seen for ${staleDays} days`,
        h('div', { class: 'inline-form' }, h('label', { for: 'stale-days' }, 'Days'), staleInput,
          h('span', { class: 'muted' }, `${num(d.stale.count)} enabled phones`)),
        table([
          { title: 'MAC', cell: (x) => h('a', { href: `#/devices/${x.mac}` }, h('code', {}, macFmt(x.mac))) },
          { title: 'Description', class: 'wrap', cell: (x) => x.description },
          { title: 'Model', cell: (x) => x.model || '—' },
          { title: 'Last seen', cell: (x) => time(x.last_seen) },
        ], d.stale.devices.slice(0, 10), { empty: 'Every enabled phone was seen recently.' }))),
    card('Recent spoof attempts', table([
      { title: 'Time', cell: (x) => time(x.ts) },
      { title: 'Listener', cell: (x) => x.listener },
      { title: 'From', cell: (x) => h('code', {}, x.remote_addr) },
      { title: 'Certificate MAC', cell: (x) => (x.mac ? h('a', { href: `#/devices/${x.mac}` }, macFmt(x.mac)) : '—') },
      { title: 'Detail', class: 'wrap', cell: (x) => x.detail || '' },
      { title: 'User-Agent', class: 'wrap', cell: (x) => h('code', { class: 'ua' }, x.user_agent || '') },
    ], d.spoofs, { empty: 'No spoof attempts in this period.' })),
    h('div', { class: 'grid-2' },
      card('Untrusted client-certificate issuers', table([
        { title: 'Issuer', class: 'wrap', cell: (x) => x.issuer || '(none)' },
        { title: 'Why', cell: (x) => x.verify || '' },
        { title: 'Requests', class: 'num', cell: (x) => num(x.requests) },
        { title: 'Addresses', class: 'num', cell: (x) => num(x.addresses) },
        { title: 'Last', cell: (x) => time(x.last) },
      ], d.issuers, { empty: 'No untrusted certificates in this period.' })),
      card('Failed TLS handshakes', table([
        { title: 'Time', cell: (x) => time(x.ts) },
        { title: 'Listener', cell: (x) => x.listener },
        { title: 'From', cell: (x) => h('code', {}, x.remote_addr) },
        { title: 'Error', class: 'wrap', cell: (x) => x.error },
        { title: 'Client hello', class: 'wrap', cell: (x) => h('code', { class: 'ua' }, x.client_hello || '') },
      ], d.handshakes.recent, { empty: 'No failed handshakes in this period.' }))),
    firmwarePanel(firmware),
    pinsPanel(pins, range),
    h('p', { class: 'muted small' }, `Updated ${fmtTime(d.generated)}.`),
  );
  setParams(r.params);
}
