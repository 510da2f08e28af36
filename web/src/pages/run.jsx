// One run: its record, a chart per metric, its log (followed live while the
// run is Queued or Running), params, outputs, child runs and its snapshot.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call, useApi } from '../api.js';
import { Chart, metricSeries } from '../chart.jsx';
import { link } from '../router.js';
import { Loading, Pairs, short } from '../ui.jsx';
import { SnapshotFiles } from './snapshot.jsx';

const isActive = (status) => status === 'Running' || status === 'Queued';

/// The run's log; while the run is active, read from the follow route as it grows.
function Log({ id, active }) {
  const [text, setText] = useState('');
  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      const response = await call(`/runs/${id}/logs${active ? '?follow=true' : ''}`, { signal: abort.signal });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let all = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        all += decoder.decode(value, { stream: true });
        setText(all);
      }
    })().catch(() => {});
    return () => abort.abort();
  }, [id, active]);
  return <pre id="log" class="log">{text || '(empty)'}</pre>;
}

export function MetricCharts({ points, prefix }) {
  const series = useMemo(() => [...metricSeries(points)], [points]);
  if (!series.length) return <p class="muted">no numeric metrics</p>;
  return (
    <div class="charts">
      {series.map(([name, s]) => (
        <Chart id={`${prefix}${name}`} title={name} series={[{ label: name, xs: s.xs, ys: s.ys }]} />
      ))}
    </div>
  );
}

export function RunPage({ id, can }) {
  const run = useApi(`/runs/${id}`, 3000);
  const metrics = useApi(`/runs/${id}/metrics`);
  if (!run.data) return <Loading state={run} />;
  const r = run.data;
  const cancel = () => call(`/runs/${id}/cancel`, { method: 'POST' }).catch((e) => alert(e.message));
  return (
    <section>
      <h1>
        Run {short(r.id)} <span class={`status ${r.status}`}>{r.status}</span>
        {can('contributor') && isActive(r.status) && (
          <button id="cancel" onClick={cancel}>
            Cancel
          </button>
        )}
      </h1>
      <p class="muted">
        {r.experiment} · {r.job} · {r.compute} · created {r.created_at} · {r.duration}
        {r.parent && (
          <>
            {' '}
            · parent <a href={link('runs', r.parent)}>{short(r.parent)}</a>
          </>
        )}
      </p>
      <h2>Metrics</h2>
      {metrics.data ? <MetricCharts points={metrics.data} prefix="metric-" /> : <Loading state={metrics} />}
      <div class="columns">
        <div>
          <h2>Params</h2>
          <Pairs id="params" value={r.params} />
          <h2>Inputs</h2>
          <Pairs value={r.inputs} />
          <h2>Tags</h2>
          <Pairs value={r.tags} />
        </div>
        <div>
          <h2>Outputs</h2>
          <Pairs id="outputs" value={r.outputs} />
          <h2>Child runs</h2>
          {r.children?.length ? (
            <ul id="children">
              {r.children.map((c) => (
                <li>
                  <a href={link('runs', c)}>{short(c)}</a>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">none</p>
          )}
        </div>
      </div>
      <h2>Log</h2>
      <Log id={id} active={isActive(r.status)} />
      <h2>Snapshot {short(r.snapshot)}</h2>
      <SnapshotFiles id={id} />
      <p class="muted">command: <code>{r.command}</code></p>
    </section>
  );
}
