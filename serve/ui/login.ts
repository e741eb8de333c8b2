/**
 * The sign-in page: a local user's name and password, and/or the server token where it is
 * accepted (the server says which in `data-login`). Either goes once, in a POST body; the server
 * answers with cookies. No name is typed for the record: the server knows who signed in.
 */
import { h } from './dom.js';

export function loginView(root: HTMLElement): void {
  const kinds = (document.body.dataset.login ?? 'token').split(' ');
  const error = h('p', { class: 'error', role: 'alert' });
  const send = (body: Record<string, string>) =>
    fetch('/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' }).then(async (res) => {
      if (res.ok) return location.assign('/');
      const retry = res.headers.get('retry-after');
      const data = (await res.json().catch(() => null)) as { error?: string } | null;
      error.textContent =
        res.status === 429
          ? `Too many failed attempts: try again in ${retry ?? 'a few'} seconds.`
          : res.status === 401 || res.status === 503
            ? (data?.error ?? 'Sign-in refused.')
            : `Sign-in failed (${res.status}).`;
    });
  const forms: HTMLElement[] = [];
  if (kinds.includes('password')) {
    const user = h('input', { id: 'user', type: 'text', name: 'user', autocomplete: 'username', required: true, autofocus: true });
    const password = h('input', { id: 'password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
    const form = h(
      'form',
      { class: 'login card', method: 'post', action: '/login', 'data-login': 'password' },
      h('h1', {}, 'Orch'),
      h('label', { for: 'user' }, 'User'),
      user,
      h('label', { for: 'password' }, 'Password'),
      password,
      h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      error.textContent = '';
      void send({ user: user.value, password: password.value });
    });
    forms.push(form);
  }
  if (kinds.includes('oidc')) {
    // A plain link: the server redirects to the provider.
    const provider = document.body.dataset.oidc ?? 'your organization';
    forms.push(h('p', { class: 'login card oidc' }, h('a', { href: '/auth/oidc/login', class: 'button primary', id: 'oidc-login', 'data-login': 'oidc' }, `Sign in with ${provider}`)));
  }
  if (kinds.includes('token')) {
    const token = h('input', { id: 'token', type: 'password', name: 'token', autocomplete: 'current-password', required: true, autofocus: forms.length === 0 });
    const form = h(
      'form',
      { class: 'login card', method: 'post', action: '/login', 'data-login': 'token' },
      ...(forms.length === 0 ? [h('h1', {}, 'Orch')] : []),
      h('p', { class: 'muted' }, 'Sign in with the server token (ORCH_TOKEN, or the one printed when it started).'),
      h('label', { for: 'token' }, 'Token'),
      token,
      h('button', { type: 'submit', class: forms.length === 0 ? 'primary' : '' }, 'Sign in with the token'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      error.textContent = '';
      void send({ token: token.value });
    });
    forms.push(form);
  }
  root.replaceChildren(h('main', { class: 'center' }, ...forms, error));
}
