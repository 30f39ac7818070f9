// Browser test of the spaprov web admin, run by tests/integration/web-admin.sh
// with the daemon, the accounts and a phone already set up.
//
// Environment:
//   BASE_URL        http://127.0.0.1:PORT of the admin listener
//   ADMIN_USER, ADMIN_PASS      the account that logs in
//   VICTIM_USER     a second account whose login is throttled
//   PHONE_MAC       the lab phone (12 hex) that resyncs on the mpp listener
//   RESYNC          a script: RESYNC USER-AGENT -> one resync of that phone
//   PROFILE         the name of a stored profile for the phone
//   ARTIFACTS       where screenshots go
//   CHROMIUM        the browser (default /usr/bin/chromium)
//   FLEET_MAC       an SPA508G (firmware 7.5.5: trusts sb) registered, with a
//                   firmware target for SPA508G and a pin mismatch recorded
//   FLEET_RESYNC    a script: one resync of it on the sb2k listener
//   FLEET_FP        the SHA-256 fingerprint of its certificate
//   FLEET_RULE      the Profile_Rule of the sb listener
//
// Prints "ok - WHAT" or "not ok - WHAT" per check (the shell test numbers
// them) and "# ..." diagnostics.  Exit status 0 unless the script itself
// failed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env('BASE_URL');
const USER = env('ADMIN_USER');
const PASS = env('ADMIN_PASS');
const VICTIM = env('VICTIM_USER');
const MAC = env('PHONE_MAC');
const RESYNC = env('RESYNC');
const PROFILE = env('PROFILE');
const ARTIFACTS = env('ARTIFACTS');
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const XSS = '<script>alert(1)</script>';
const macColons = MAC.match(/../g).join(':');
const FLEET_MAC = env('FLEET_MAC');
const FLEET_RESYNC = env('FLEET_RESYNC');
const FLEET_FP = env('FLEET_FP');
const FLEET_RULE = env('FLEET_RULE');
const fleetColons = FLEET_MAC.match(/../g).join(':');

const LAPTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

let failures = 0;
function check(cond, what, detail) {
  if (cond) {
    console.log(`ok - ${what}`);
  } else {
    failures++;
    console.log(`not ok - ${what}`);
    if (detail !== undefined) console.log(`# ${String(detail).split('\n').join('\n# ')}`);
  }
}
async function attempt(what, fn) {
  try {
    const r = await fn();
    check(r !== false, what);
  } catch (e) {
    check(false, what, e.message);
  }
}

function resync(ua) {
  return execFileSync(RESYNC, [ua], { encoding: 'utf8', timeout: 30000 });
}

async function shoot(page, name) {
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  for (const [label, vp] of [['laptop', LAPTOP], ['phone', PHONE]]) {
    await page.setViewportSize(vp);
    await page.waitForTimeout(250); // charts follow their box
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(LAPTOP);
  await page.waitForTimeout(150);
}

async function go(page, hash) {
  await page.goto(`${BASE}/${hash}`);
  await page.locator('main .view, main .login').first().waitFor();
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const profileDir = mkdtempSync(join(tmpdir(), 'spaprov-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: LAPTOP,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  let dialogs = 0;
  const problems = [];
  page.on('dialog', (d) => { dialogs++; d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // failed API calls are part of the test; a front-end file that does
  // not load, a script error or a CSP violation is not
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text()))
      problems.push(`console: ${m.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !new URL(res.url()).pathname.startsWith('/api/'))
      problems.push(`${res.status()} for ${res.url()}`);
  });

  try {
    // --- the login page, headers, a wrong password, throttling -------------
    const resp = await page.goto(`${BASE}/`);
    const hdr = resp.headers();
    check(/default-src 'self'/.test(hdr['content-security-policy'] || '') &&
      /frame-ancestors 'none'/.test(hdr['content-security-policy'] || '') &&
      !/unsafe-inline/.test(hdr['content-security-policy'] || ''),
    'strict Content-Security-Policy on the page', hdr['content-security-policy']);
    check(hdr['x-content-type-options'] === 'nosniff' && hdr['referrer-policy'] === 'no-referrer',
      'nosniff and no-referrer headers');
    await page.locator('#login-name').waitFor();
    await shoot(page, 'login');

    await page.fill('#login-name', VICTIM);
    await page.fill('#login-password', 'not-the-password');
    await page.click('button[type=submit]');
    await page.locator('#login-error', { hasText: 'Wrong account name or password' }).waitFor();
    check(await page.locator('.topbar').isHidden(), 'a wrong password is refused');
    let locked = false;
    for (let i = 0; i < 6 && !locked; i++) {
      await page.fill('#login-password', `still-wrong-${i}`);
      await page.click('button[type=submit]');
      await page.waitForFunction(() => !document.querySelector('button[type=submit]').disabled);
      locked = /locked/.test(await page.locator('#login-error').textContent());
    }
    check(locked, 'repeated wrong passwords lock the account (throttled)');
    await shoot(page, 'login-locked');
    const lockedStatus = await page.evaluate(async (name) => (await fetch('/api/v1/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, password: 'wrong-again-wrong' }) })).status, VICTIM);
    check(lockedStatus === 429, 'the locked account gets 429 Too Many Requests', lockedStatus);

    // --- log in --------------------------------------------------------------
    await page.fill('#login-name', USER);
    await page.fill('#login-password', PASS);
    await page.click('button[type=submit]');
    await page.locator('h1', { hasText: 'Dashboard' }).waitFor();
    check(await page.locator('#who').textContent() === USER, 'logged in, the account is shown');
    const cookies = await context.cookies();
    const sc = cookies.find((c) => c.name === 'spaprov_session');
    check(sc && sc.httpOnly && sc.sameSite === 'Strict', 'session cookie is HttpOnly and SameSite=Strict',
      JSON.stringify(sc));

    // --- register the phone ---------------------------------------------------
    await go(page, '#/devices');
    await page.click('text=Add device');
    const dlg = page.locator('dialog');
    await dlg.getByLabel('MAC address').fill(macColons.toUpperCase());
    await dlg.getByLabel('Description').fill('Reception desk');
    await dlg.getByLabel('Profile').selectOption(PROFILE);
    await dlg.getByText('Add variable').click();
    await dlg.getByText('Add variable').click();
    const names = dlg.getByLabel('Variable name');
    await names.nth(0).fill('station_name');
    await dlg.locator('.var-row').nth(0).locator('input').nth(1).fill('Reception');
    await names.nth(1).fill('sip_password');
    await dlg.locator('.var-row').nth(1).locator('input').nth(1).fill('s3cret-sip-pass');
    await dlg.locator('button[type=submit]').click();
    await page.locator('h1', { hasText: macColons }).waitFor();
    check(true, 'a phone is registered from the Devices page');
    check(await page.locator('.masked').count() === 1 &&
      await page.getByText('s3cret-sip-pass').count() === 0, 'its secret variable is masked');
    check(await page.locator('pre.code').textContent().then((t) => t.includes('<Password_1_>********<')),
      'the rendered profile masks the secret too');
    await page.click('text=Reveal secrets');
    await page.getByText('s3cret-sip-pass', { exact: true }).waitFor();
    check(true, 'Reveal secrets shows the value');

    // --- the phone resyncs ------------------------------------------------------
    let out = '';
    await attempt('the phone emulator resyncs and gets 200', async () => {
      out = resync(`Cisco-CP-8841-3PCC/11.0.1 (${MAC})`);
      return /Reception/.test(out);
    });
    await attempt('a second resync with a script as User-Agent', async () => {
      resync(XSS);
      return true;
    });

    // --- device page --------------------------------------------------------------
    await go(page, `#/devices/${MAC}`);
    const histRows = page.locator('.table-history tbody tr');
    check(await histRows.count() === 2, 'the device page lists both resyncs', await histRows.count());
    check(await page.locator('pre.code').textContent().then((t) => t.includes('Reception')),
      'the device page shows the profile as the phone gets it');
    check(await page.getByText('mpp (mpp)').count() === 1, 'last resync: listener and CA');
    check(await page.getByText(XSS, { exact: true }).count() >= 1,
      'a <script> User-Agent is shown as text on the device page');
    check(await page.locator('main script').count() === 0, 'no script element was created from data');
    await shoot(page, 'device');

    // --- history ---------------------------------------------------------------------
    await go(page, `#/history?mac=${MAC}`);
    await page.locator('.table-history tbody tr').first().waitFor();
    check(await page.locator('.table-history tbody tr').count() === 2, 'the history lists the two resyncs');
    check(await page.getByText(XSS, { exact: true }).isVisible(), 'the history shows the <script> User-Agent as visible text');
    await go(page, '#/history');
    await shoot(page, 'history');
    await go(page, '#/history?tab=audit');
    const audit = await page.locator('.table-history').textContent();
    check(/device-add/.test(audit) && /login-failure/.test(audit) && /login/.test(audit),
      'the audit trail records the device added and the failed logins', audit.slice(0, 300));
    await shoot(page, 'audit');

    // --- dashboard --------------------------------------------------------------------
    await go(page, '#/dashboard');
    await page.locator('.chart canvas').first().waitFor();
    const label = await page.locator('.chart').first().getAttribute('aria-label');
    check(/ok 2\b/.test(label), 'the dashboard chart counts the two resyncs as ok', label);
    const legend = await page.locator('.chart .u-legend').first().textContent();
    check(/ok/.test(legend), 'the chart legend names the outcome', legend);
    const mppRow = page.locator('tr', { has: page.locator('strong', { hasText: /^mpp$/ }) });
    check(/\b2\b/.test(await mppRow.locator('td').last().textContent()),
      'the mpp listener shows its resyncs in 24 h');
    await shoot(page, 'dashboard');
    await go(page, '#/dashboard?range=7d');
    await page.locator('.chart canvas').first().waitFor();
    check(await page.locator('.seg-on').textContent() === '7 days', 'the 7-day range can be chosen');

    // --- fleet: wrong listener, firmware, pin mismatches, re-pin -------------------------
    await attempt('the SPA508G resyncs on the sb2k listener', async () => {
      execFileSync(FLEET_RESYNC, [], { encoding: 'utf8', timeout: 30000 });
      return true;
    });
    await go(page, '#/dashboard');
    const panel = (title) => page.locator('section.card', { has: page.locator('h2', { hasText: title }) });
    const wrong = panel('Phones on the wrong listener');
    await wrong.locator('tbody tr', { hasText: fleetColons }).waitFor();
    const wrongRow = (await wrong.locator('tbody tr', { hasText: fleetColons }).textContent()).replace(/\s+/g, ' ');
    check(/SPA508G/.test(wrongRow) && /7\.5\.5/.test(wrongRow) && /sb2k/.test(wrongRow) &&
      wrongRow.includes(FLEET_RULE), 'the wrong-listener panel lists the SPA508G on sb2k with the sb Profile_Rule',
    wrongRow);
    check(await wrong.getByText('Fleet <b>test</b>', { exact: true }).count() === 1 &&
      await wrong.locator('b').count() === 0, 'its description is shown as text');
    check(await wrong.locator('tbody tr').count() === 1, 'only the misplaced phone is listed (the mpp phone is where it belongs)');
    const fw = page.locator('section.fw-model', { has: page.locator('h3', { hasText: /^SPA508G$/i }) });
    const fwText = (await fw.textContent()).replace(/\s+/g, ' ');
    check(/Target\s*7\.5\.6/.test(fwText) && /Behind target\s*1/.test(fwText),
      'the firmware panel shows the target set with spaprovctl firmware target and one phone behind it', fwText);
    check(/7\.5\.5: 1/.test(await fw.locator('.chart').getAttribute('aria-label')),
      'with a version histogram of that model', await fw.locator('.chart').getAttribute('aria-label'));
    const pins = panel('Recent certificate pin mismatches');
    const pinText = await pins.locator('tbody').textContent();
    check(pinText.includes(fleetColons) && pinText.includes('pin-mismatch') && pinText.includes('certificate changed'),
      'the pin-mismatch panel lists the refused certificate', pinText);
    check(await pins.getByText('CN=<i>Other</i> Root', { exact: true }).count() === 1 &&
      await pins.locator('i').count() === 0, 'the issuer DN is shown as text');
    await shoot(page, 'fleet');

    await go(page, `#/devices/${FLEET_MAC}`);
    const pinCard = panel('Pinned certificate');
    check((await pinCard.textContent()).includes(FLEET_FP), 'the device page shows the pinned fingerprint');
    const steerText = (await panel('Recommended listener').textContent()).replace(/\s+/g, ' ');
    check(steerText.includes(FLEET_RULE) && /last came in on sb2k/.test(steerText),
      'the device page shows the recommended listener and its Profile_Rule', steerText);
    check((await page.locator('pre.code').textContent()).includes(`<Profile_Rule>${FLEET_RULE}</Profile_Rule>`),
      'the profile preview renders {{profile_rule}} as spaprovd does');
    await shoot(page, 'pinned');
    await page.focus('#repin');
    await page.keyboard.press('Enter');
    const confirm = page.locator('dialog');
    await confirm.getByText('Re-pin', { exact: true }).focus();
    await page.keyboard.press('Enter');
    await pinCard.getByText('No certificate pinned', { exact: false }).waitFor();
    const pinAfter = await page.evaluate(async (m) => (await (await fetch(`/api/v1/devices/${m}`)).json()).pin, FLEET_MAC);
    check(pinAfter === null, 'Re-pin from the keyboard clears the pin (the API has none)', JSON.stringify(pinAfter));
    await shoot(page, 'repin');

    // --- CSRF --------------------------------------------------------------------------
    const forged = await page.evaluate(async () => {
      const a = await fetch('/api/v1/devices', { method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ mac: '00:0e:08:00:00:99' }) });
      const b = await fetch(`/api/v1/devices/${'000e08000099'}`, { method: 'DELETE' });
      const c = await fetch('/api/v1/devices', { method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'mac=000e08000099' });
      return [a.status, b.status, c.status];
    });
    check(forged.every((s) => s === 403), 'a forged POST/DELETE without the CSRF token is refused with 403',
      forged.join(','));
    const notThere = await page.evaluate(async () => (await fetch('/api/v1/devices/000e08000099')).status);
    check(notThere === 404, 'and nothing was created', notThere);

    // --- devices list: search in any notation, filters, CSV ----------------------------
    await go(page, '#/devices');
    for (const q of [MAC.slice(0, 4) + '.' + MAC.slice(4, 8) + '.' + MAC.slice(8), 'reception', 'Reception']) {
      await page.fill('#dev-search', q);
      await page.waitForFunction((m) => {
        const rows = document.querySelectorAll('.table-devices tbody tr');
        return rows.length === 1 && rows[0].textContent.includes(m);
      }, macColons);
    }
    check(true, 'search finds the phone by MAC notation and description');
    await page.fill('#dev-search', '');
    await page.click('text=Import CSV');
    const imp = page.locator('dialog');
    await imp.locator('input[type=file]').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv',
      buffer: Buffer.from('mac,description,var:sip_user\n000e08000001,first,101\nnot-a-mac,second,102\n') });
    await imp.locator('button[type=submit]').click();
    await imp.getByText('not a MAC address').waitFor();
    check(await imp.locator('tbody tr').first().textContent().then((t) => t.startsWith('3')),
      'CSV import reports a bad row with its line');
    await shoot(page, 'import-errors');
    await imp.locator('input[type=file]').setInputFiles({ name: 'good.csv', mimeType: 'text/csv',
      buffer: Buffer.from('mac,description,var:sip_user\n000e08000001,first,101\n000e08000002,"second, with comma",102\n') });
    await imp.locator('button[type=submit]').click();
    await page.locator('dialog').waitFor({ state: 'detached' });
    await page.waitForFunction(() => {
      const t = document.querySelector('.table-devices tbody').textContent;
      return t.includes('00:0e:08:00:00:01') && t.includes('second, with comma');
    });
    check(true, 'a good CSV file imports its devices');
    const csv = await page.evaluate(async () => (await fetch('/api/v1/devices/export.csv')).text());
    check(csv.startsWith('mac,status,profile,description') && csv.includes('"second, with comma"') &&
      !csv.includes('s3cret-sip-pass'), 'CSV export, secrets withheld', csv.slice(0, 200));
    await shoot(page, 'devices');

    // --- profiles: edit with live preview -------------------------------------------------
    await go(page, `#/profiles/${PROFILE}`);
    await page.fill('#preview-mac', MAC);
    const body = page.locator('#profile-body');
    await body.fill((await body.inputValue()).replace('</flat-profile>',
      '  <Text_Logo>{{station_name}} live</Text_Logo>\n</flat-profile>'));
    await page.locator('pre.preview', { hasText: 'Reception live' }).waitFor();
    check(true, 'the profile editor previews the change for the phone');
    await page.click('text=Save');
    await page.locator('.toast', { hasText: 'Saved' }).waitFor();
    await shoot(page, 'profiles');

    // --- keyboard: the nav is reachable with Tab -----------------------------------------------
    await go(page, '#/dashboard');
    await page.reload();
    await page.locator('main .view').waitFor();
    const focusOrder = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      focusOrder.push(await page.evaluate(() => document.activeElement.textContent.trim()));
    }
    check(focusOrder.join('|') === 'Skip to content|Dashboard|Devices|Profiles',
      'Tab walks the skip link and the navigation', focusOrder.join('|'));
    await page.keyboard.press('Tab'); // History
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.id) === 'logout',
      'the keyboard reaches Log out');
    await page.keyboard.press('Enter');
    await page.locator('#login-name').waitFor();
    await page.fill('#login-name', USER);
    await page.fill('#login-password', PASS);
    await page.keyboard.press('Enter');
    await page.locator('h1', { hasText: 'Dashboard' }).waitFor();

    // --- logout ----------------------------------------------------------------------------------
    await page.click('#logout');
    await page.locator('#login-name').waitFor();
    const after = await page.evaluate(async () => (await fetch('/api/v1/devices')).status);
    check(after === 401, 'after logout the API answers 401', after);

    check(dialogs === 0, 'no JavaScript dialog was ever opened (the <script> User-Agent did not run)', dialogs);
    check(problems.length === 0, 'no script errors or CSP violations in the console', problems.join('\n'));
  } finally {
    await context.close();
    rmSync(profileDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0)).catch((e) => {
  console.log(`not ok - the browser test stopped: ${e.message.split('\n')[0]}`);
  console.log(`# ${String(e.stack).split('\n').slice(0, 12).join('\n# ')}`);
  process.exit(1);
});
