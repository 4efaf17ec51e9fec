import { ApiError, api, setCsrf } from './api.js';

/** The logged-in user as the server last told it; the session itself lives in the httpOnly cookie. */
let current = null;

export const user = () => current;

export function forget() {
  current = null;
  setCsrf(null);
}

function take(s) {
  current = s.user;
  setCsrf(s.csrfToken);
  return current;
}

/** At page load: an existing session cookie logs the user in without the form. */
export async function restore() {
  try {
    return take(await api('GET', '/session'));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function login(email, password) {
  return take(await api('POST', '/session', { email, password }));
}

export async function logout() {
  try {
    await api('DELETE', '/session');
  } finally {
    forget();
  }
}
