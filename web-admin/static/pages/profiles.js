// Profiles: the templates, edited with a live preview for a chosen device.
import { api } from '../api.js';
import { navigate } from '../app.js';
import {
  button, card, confirmDialog, debounce, dialog, field, h, num, pageHeader, time, toast,
} from '../ui.js';

// A page reload or close with an unsaved template asks first.
let unsaved = false;
window.addEventListener('beforeunload', (ev) => { if (unsaved) ev.preventDefault(); });

async function newProfile() {
  const name = h('input', { required: true, maxlength: 64, pattern: '[A-Za-z0-9._-]+',
    spellcheck: 'false', autocapitalize: 'none' });
  const created = await dialog('New profile', field('Name', name, '1 to 64 of A-Z a-z 0-9 . _ -'), {
    submit: 'Create',
    onsubmit: async () => {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(name.value)) throw new Error('Invalid name.');
      await api('PUT', `/profiles/${encodeURIComponent(name.value)}`,
        { body: '<flat-profile>\n  <Station_Name>{{station_name}}</Station_Name>\n</flat-profile>\n' });
      return name.value;
    },
  });
  if (created) navigate('profiles', created);
}

function list(profiles, current) {
  return h('nav', { class: 'profile-list', 'aria-label': 'Profiles' },
    profiles.length === 0 ? h('p', { class: 'muted' }, 'No profiles yet.') : null,
    h('ul', {}, profiles.map((p) => h('li', {},
      h('a', { href: `#/profiles/${encodeURIComponent(p.name)}`,
        'aria-current': p.name === current ? 'page' : null },
      h('span', { class: 'profile-name' }, p.name),
      h('span', { class: 'muted small' }, `${num(p.devices)} device${p.devices === 1 ? '' : 's'} · `,
        time(p.updated)))))));
}

async function editor(view, name) {
  unsaved = false;
  const p = await api('GET', `/profiles/${encodeURIComponent(name)}`);
  const devices = await api('GET', `/devices?profile=${encodeURIComponent(name)}&per_page=50`);
  const text = h('textarea', { class: 'code-edit', spellcheck: 'false', id: 'profile-body', wrap: 'off',
    'aria-describedby': 'profile-help' });
  text.value = p.body;
  const mac = h('input', { id: 'preview-mac', list: 'preview-macs', placeholder: 'MAC of a device',
    class: 'mono', spellcheck: 'false', autocapitalize: 'none',
    value: devices.devices.length ? devices.devices[0].mac : '' });
  const macs = h('datalist', { id: 'preview-macs' },
    devices.devices.map((d) => h('option', { value: d.mac }, d.description || d.mac)));
  const out = h('pre', { class: 'code preview', tabindex: '0', 'aria-live': 'polite',
    'aria-label': 'Preview' });
  const status = h('p', { class: 'small muted', id: 'preview-status' });
  const vars = h('p', { class: 'small', id: 'profile-help' });

  const preview = async () => {
    if (!mac.value) {
      out.textContent = '';
      status.textContent = 'Choose a device to see the profile it would get.';
      return;
    }
    try {
      const r = await api('POST', '/profiles/preview', { body: text.value, mac: mac.value });
      if (r.error) {
        out.textContent = '';
        status.textContent = r.error;
        status.className = 'small form-error';
      } else {
        out.textContent = r.output;
        status.textContent = `${num(r.output.length)} bytes for ${mac.value}`;
        status.className = 'small muted';
      }
    } catch (e) {
      out.textContent = '';
      status.textContent = e.message;
      status.className = 'small form-error';
    }
  };
  const later = debounce(preview, 300);
  text.addEventListener('input', () => { unsaved = true; save.disabled = false; later(); });
  mac.addEventListener('input', later);
  vars.textContent = p.variables.length ? `Variables: ${p.variables.join(', ')}` :
    'No {{variables}} in this template.';

  const save = button('Save', async () => {
    try {
      await api('PUT', `/profiles/${encodeURIComponent(name)}`, { body: text.value });
      unsaved = false;
      save.disabled = true;
      toast(`Saved ${name}.`);
    } catch (e) {
      toast(e.message, 'bad');
    }
  }, 'btn btn-primary', { disabled: true });
  const del = button('Delete', async () => {
    if (!(await confirmDialog(`Delete profile ${name}?`,
      'Devices that use it get 404 until a profile of this name is stored again.'))) return;
    try {
      await api('DELETE', `/profiles/${encodeURIComponent(name)}?force=1`);
      toast(`Deleted ${name}.`);
      navigate('profiles');
    } catch (e) {
      toast(e.message, 'bad');
    }
  }, 'btn btn-danger-ghost');

  view.append(h('div', { class: 'editor-grid' },
    card(`Template “${name}”`,
      h('div', { class: 'field' }, h('label', { for: 'profile-body' }, 'Template'), text),
      vars,
      h('p', { class: 'hint' }, '{{name}} takes the device variable or a built-in (mac, mac_upper, serial, ' +
        'model, firmware, ca, listener), XML-escaped. $MA-style macros are left for the phone.'),
      h('div', { class: 'button-row' }, save, del)),
    card('Preview',
      h('div', { class: 'field' }, h('label', { for: 'preview-mac' }, 'For device'), mac, macs),
      status, out)));
  preview();
}

export async function renderProfiles(view, r) {
  const d = await api('GET', '/profiles');
  view.dataset.title = r.arg ? `Profile ${r.arg}` : 'Profiles';
  const current = r.arg || (d.profiles[0] && d.profiles[0].name);
  const body = h('div', { class: 'profile-main' });
  view.append(pageHeader('Profiles', button('New profile', newProfile, 'btn btn-primary')),
    h('div', { class: 'profiles-layout' }, card(null, list(d.profiles, current)), body));
  if (current) await editor(body, current);
  else body.append(card(null, h('p', { class: 'muted' }, 'Create a profile to start.')));
}
