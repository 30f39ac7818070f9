// The login form.
import { api, ApiError, session } from '../api.js';
import { h } from '../ui.js';

export function renderLogin(main, done) {
  const name = h('input', { id: 'login-name', name: 'username', autocomplete: 'username',
    required: true, maxlength: 64, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true, maxlength: 1024 });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const form = h('form', { class: 'login-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'login-name' }, 'Account'), name),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    error, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    if (!name.value || !password.value) {
      error.textContent = 'Enter your account name and password.';
      return;
    }
    submit.disabled = true;
    try {
      const s = await api('POST', '/session', { name: name.value, password: password.value },
        { noRedirect: true });
      session.account = s.account;
      session.csrf = s.csrf;
      password.value = '';
      done();
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) {
        const secs = e.data.retry_after || 30;
        error.textContent = `Too many failed logins: this login is locked for ${secs} s.`;
      } else if (e instanceof ApiError && e.status === 401) {
        error.textContent = 'Wrong account name or password.';
      } else {
        error.textContent = e.message || 'Cannot log in.';
      }
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  main.append(h('div', { class: 'login' },
    h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' },
        h('img', { src: 'favicon.svg', alt: '', width: 40, height: 40 }),
        h('div', {}, h('h1', {}, 'spaprov'),
          h('p', { class: 'muted' }, 'Provisioning server administration'))),
      form)));
  document.title = 'Log in · spaprov admin';
  name.focus();
}
