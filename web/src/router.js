// Hash routes (#/runs/ID), so the server serves one page at / and a reload
// keeps the place.
import { useEffect, useState } from 'preact/hooks';

export function parseHash(hash) {
  const [path, search = ''] = hash.replace(/^#/, '').split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

export function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return parseHash(hash);
}

export const link = (...parts) => `#/${parts.map(encodeURIComponent).join('/')}`;
