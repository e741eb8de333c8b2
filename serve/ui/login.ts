/** The sign-in page: the token goes once, in a POST body; the server answers with cookies. */
import { h } from './dom.js';

export function loginView(root: HTMLElement): void {
  const error = h('p', { class: 'error', role: 'alert' });
  const token = h('input', { id: 'token', type: 'password', name: 'token', autocomplete: 'current-password', required: true, autofocus: true });
  const name = h('input', { id: 'who', type: 'text', name: 'who', autocomplete: 'username', placeholder: 'operator' });
  const form = h(
    'form',
    { class: 'login card', method: 'post', action: '/login' },
    h('h1', {}, 'Orch'),
    h('p', { class: 'muted' }, 'Sign in with the server token (ORCH_TOKEN, or the one printed when it started).'),
    h('label', { for: 'token' }, 'Token'),
    token,
    h('label', { for: 'who' }, 'Your name (recorded with approvals)'),
    name,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.textContent = '';
    void fetch('/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: token.value, name: name.value }),
      credentials: 'same-origin',
    }).then(async (res) => {
      if (res.ok) location.assign('/');
      else error.textContent = res.status === 401 ? 'That token is not right.' : `Sign-in failed (${res.status}).`;
    });
  });
  // With `auth.oidc` configured, people sign in at the provider instead (a plain link: the server redirects).
  const provider = document.body.dataset.oidc;
  const sso = provider
    ? h('p', { class: 'login card oidc' }, h('a', { class: 'button primary', href: '/auth/oidc/login', id: 'oidc-login' }, `Sign in with ${provider}`))
    : null;
  root.replaceChildren(h('main', { class: 'center' }, h('div', {}, sso, form)));
}
