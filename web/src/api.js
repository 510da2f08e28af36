// Calls to the workspace API with the token the user signed in with. The
// token lives in sessionStorage: it is gone when the tab closes, and never
// goes into a URL (the server refuses credentials in query strings).
import { useEffect, useState } from 'preact/hooks';

const kTokenKey = 'amlc.token';
const kRoleRank = { reader: 0, contributor: 1, owner: 2 };

export const token = () => sessionStorage.getItem(kTokenKey) || '';
export const setToken = (value) => sessionStorage.setItem(kTokenKey, value);

export function signOut() {
  sessionStorage.removeItem(kTokenKey);
  location.hash = '#/signin';
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/// fetch() of /api/v1 + path with the Bearer token; a 401 signs out.
export async function call(path, options = {}) {
  const headers = { Authorization: `Bearer ${token()}`, ...(options.headers || {}) };
  const response = await fetch(`/api/v1${path}`, { ...options, headers });
  if (response.status === 401) signOut();
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.message || `HTTP ${response.status}`);
  }
  return response;
}

export const getJson = async (path) => (await call(path)).json();

/// The JSON of GET path, reloaded when path changes or every `refreshMs`.
export function useApi(path, refreshMs = 0) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    const load = () =>
      getJson(path).then(
        (data) => live && setState({ data, error: null }),
        (error) => live && setState((old) => ({ data: old.data, error })),
      );
    load();
    const timer = refreshMs ? setInterval(load, refreshMs) : null;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [path, refreshMs]);
  return state;
}

/// Whether `role` has at least the power of `needed` (reader < contributor < owner).
export const allows = (role, needed) => (kRoleRank[role] ?? -1) >= kRoleRank[needed];

export const query = (params) => {
  const kept = Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null);
  return kept.length ? `?${new URLSearchParams(kept)}` : '';
};
