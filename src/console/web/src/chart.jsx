// A uPlot time-series chart that follows its container's width.
import { useEffect, useRef, useState } from 'preact/hooks';

let loading = null;
function loadUPlot() {
  if (!loading) {
    loading = import('./uplot.js').then((m) => m.default);
    loading.catch(() => {
      loading = null; // retry on the next mount
    });
  }
  return loading;
}

export function Chart({ title, series, data, height = 180, yLabel, summary }) {
  const box = useRef(null);
  const plot = useRef(null);
  const [uPlot, setUPlot] = useState(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let alive = true;
    loadUPlot().then(
      (U) => alive && setUPlot(() => U),
      () => alive && setFailed(true),
    );
    return () => {
      alive = false;
    };
  }, []);

  useEffect(() => {
    if (!uPlot) return;
    const el = box.current;
    const width = Math.max(200, el.clientWidth || 300);
    const opts = {
      width,
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: '#667', grid: { stroke: '#e3e6ea' }, ticks: { stroke: '#d0d4da' } },
        {
          stroke: '#667',
          grid: { stroke: '#e3e6ea' },
          ticks: { stroke: '#d0d4da' },
          size: 50,
          label: yLabel,
          labelSize: yLabel ? 18 : 0,
        },
      ],
      series: [
        { label: 'Time' },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          fill: s.fill,
          spanGaps: false,
          value: (u, v) => (v === null || v === undefined ? '–' : s.fmt ? s.fmt(v) : String(v)),
        })),
      ],
    };
    plot.current = new uPlot(opts, data, el);
    let ro;
    if (window.ResizeObserver) {
      ro = new ResizeObserver(() => {
        const w = Math.max(200, el.clientWidth);
        if (plot.current && Math.abs(plot.current.width - w) > 1) {
          plot.current.setSize({ width: w, height });
        }
      });
      ro.observe(el);
    }
    return () => {
      ro && ro.disconnect();
      plot.current && plot.current.destroy();
      plot.current = null;
    };
  }, [uPlot]);

  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);

  return (
    <figure class="chart card">
      <figcaption>
        <h2>{title}</h2>
        {summary && <p class="chart-summary">{summary}</p>}
      </figcaption>
      <div class="chart-box" ref={box} role="img" aria-label={`${title} chart. ${summary || ''}`}>
        {failed ? <p class="muted">The chart could not be loaded.</p> : null}
      </div>
    </figure>
  );
}
