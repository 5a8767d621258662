// Formatting helpers and a few shared hooks.
import { useEffect, useRef, useState } from 'preact/hooks';

export const LIVE_STATUSES = new Set(['queued', 'initiated', 'ringing', 'in-progress']);
export const END_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

// "Tue, 01 Dec 2026 17:00:00 +0000", RFC 3339 or unix ms -> ms (NaN when unknown)
export function toMs(v) {
  if (v === null || v === undefined || v === '') return NaN;
  if (typeof v === 'number') return v;
  return Date.parse(v);
}

export function fmtTime(v) {
  const ms = toMs(v);
  if (!isFinite(ms)) return '';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(
    d.getMinutes(),
  )}:${p(d.getSeconds())}`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || seconds === '' || !isFinite(seconds)) return '';
  const s = Math.max(0, Math.floor(Number(seconds)));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const p = (n) => String(n).padStart(2, '0');
  return h ? `${h}:${p(m)}:${p(r)}` : `${m}:${p(r)}`;
}

export function pretty(v) {
  try {
    return JSON.stringify(v, null, 2);
  } catch (_) {
    return String(v);
  }
}

export function useDebounced(value, ms) {
  const [v, set] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => set(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

// Loads data with an async function; reload() runs it again. Ignores stale answers.
export function useLoad(fn, deps) {
  const [st, set] = useState({ loading: true, error: null, data: null });
  const seq = useRef(0);
  const run = () => {
    const n = ++seq.current;
    set((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(fn)
      .then(
        (data) => n === seq.current && set({ loading: false, error: null, data }),
        (error) => n === seq.current && set({ loading: false, error, data: null }),
      );
  };
  useEffect(() => {
    run();
    return () => {
      seq.current++;
    };
  }, deps);
  return { ...st, reload: run };
}

export function setTitle(t) {
  document.title = t ? `${t} · Switchboard console` : 'Switchboard console';
}
