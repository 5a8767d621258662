// Hash routing: #/calls/CA… -> ['calls', 'CA…'].
import { useEffect, useState } from 'preact/hooks';

export function parseHash(hash) {
  const h = (hash || '').replace(/^#\/?/, '');
  const [path] = h.split('?');
  return path
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch (_) {
        return s;
      }
    });
}

export function useRoute() {
  const [route, set] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => {
      window.__consoleNavFocus = true; // move focus to the new page's heading
      set(parseHash(location.hash));
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function go(hash) {
  if (location.hash !== hash) location.hash = hash;
}
