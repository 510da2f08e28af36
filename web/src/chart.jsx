// A uPlot line chart of one or more series, each with its own x values
// (uPlot.join aligns them). Each drawn chart is kept in window.__amlcCharts
// under its id, so tests and people debugging can read exactly what was drawn.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const kColors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

window.__amlcCharts = window.__amlcCharts || {};

/// series: [{label, xs, ys}]; xTime: x values are unix seconds.
export function Chart({ id, title, series, xTime = false, width = 560, height = 240 }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current || !series.length) return undefined;
    const data = series.length === 1 ? [series[0].xs, series[0].ys] : uPlot.join(series.map((s) => [s.xs, s.ys]));
    const options = {
      title,
      width,
      height,
      scales: { x: { time: xTime } },
      // drawnAt (ms since navigation) is read by the dashboard bench: first paint.
      hooks: { draw: [(u) => (u.drawnAt = u.drawnAt || performance.now())] },
      series: [{ label: xTime ? 'time' : 'step' }].concat(
        series.map((s, i) => ({ label: s.label, stroke: kColors[i % kColors.length], width: 1.5, spanGaps: true })),
      ),
    };
    const plot = new uPlot(options, data, box.current);
    window.__amlcCharts[id] = plot;
    return () => {
      plot.destroy();
      if (window.__amlcCharts[id] === plot) delete window.__amlcCharts[id];
    };
  }, [id, title, series, xTime, width, height]);
  return <div class="chart" data-chart={id} ref={box} />;
}

/// Metric points ([{name, step, value}]) as one series per numeric metric name.
export function metricSeries(points) {
  const byName = new Map();
  for (const p of points) {
    if (typeof p.value !== 'number') continue;
    if (!byName.has(p.name)) byName.set(p.name, { xs: [], ys: [] });
    const s = byName.get(p.name);
    s.xs.push(p.step);
    s.ys.push(p.value);
  }
  // uPlot needs ascending x; steps arrive in logging order, which may differ.
  for (const s of byName.values()) {
    const order = s.xs.map((_, i) => i).sort((a, b) => s.xs[a] - s.xs[b]);
    s.xs = order.map((i) => s.xs[i]);
    s.ys = order.map((i) => s.ys[i]);
  }
  return byName;
}
