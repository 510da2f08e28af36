// Sign-in: the user pastes an API token (amlc tokens create); it is checked
// with GET /api/v1/whoami before it is kept.
import { useState } from 'preact/hooks';
import { setToken } from '../api.js';

export function SignIn() {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const response = await fetch('/api/v1/whoami', { headers: { Authorization: `Bearer ${value.trim()}` } });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      setError(body.message || `HTTP ${response.status}`);
      return;
    }
    setToken(value.trim());
    location.hash = '#/runs';
  };
  return (
    <form class="signin" onSubmit={submit}>
      <h1>amlc</h1>
      <label>
        API token <input name="token" type="password" autocomplete="off" value={value} onInput={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit">Sign in</button>
      {error && <p class="error">{error}</p>}
      <p class="muted">Create one with <code>amlc tokens create</code>.</p>
    </form>
  );
}
