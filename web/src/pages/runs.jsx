// Experiments and runs: filter by experiment, status and an MLflow-style
// condition (metrics.accuracy > 0.9), sort by a metric's latest value by
// clicking its column (the server sorts: order_by), tick runs to compare.
import { useState } from 'preact/hooks';
import { query, useApi } from '../api.js';
import { link } from '../router.js';
import { Loading, fmt, short } from '../ui.jsx';

function setParams(params, changes) {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(changes)) (v ? next.set(k, v) : next.delete(k));
  location.hash = `#/runs?${next}`;
}

function nextOrder(current, field) {
  if (current === `${field} desc`) return `${field} asc`;
  return `${field} desc`;
}

function Filters({ params }) {
  const experiments = useApi('/experiments');
  const [where, setWhere] = useState(params.get('where') || '');
  return (
    <form class="filters" onSubmit={(e) => (e.preventDefault(), setParams(params, { where }))}>
      <select name="experiment" value={params.get('experiment') || ''} onChange={(e) => setParams(params, { experiment: e.target.value })}>
        <option value="">all experiments</option>
        {(experiments.data || []).map((x) => (
          <option value={x.name}>{x.name}</option>
        ))}
      </select>
      <select name="status" value={params.get('status') || ''} onChange={(e) => setParams(params, { status: e.target.value })}>
        {['', 'Queued', 'Running', 'Completed', 'Failed', 'Canceled'].map((s) => (
          <option value={s}>{s || 'any status'}</option>
        ))}
      </select>
      <input name="where" placeholder="metrics.accuracy > 0.9" value={where} onInput={(e) => setWhere(e.target.value)} />
      <button type="submit">Filter</button>
    </form>
  );
}

export function Runs({ params }) {
  const path = `/runs${query({
    experiment: params.get('experiment'),
    status: params.get('status'),
    where: params.get('where'),
    order_by: params.get('order_by'),
    limit: 1000,
  })}`;
  const runs = useApi(path, 5000);
  const [picked, setPicked] = useState([]);
  if (!runs.data) return <Loading state={runs} />;
  const metricNames = [...new Set(runs.data.flatMap((r) => Object.keys(r.metrics || {})))].sort();
  const order = params.get('order_by') || '';
  const toggle = (id) => setPicked(picked.includes(id) ? picked.filter((x) => x !== id) : [...picked, id]);
  return (
    <section>
      <h1>Runs</h1>
      <Filters params={params} />
      {runs.error && <p class="error">{runs.error.message}</p>}
      <p>
        <a id="compare" class={picked.length < 2 ? 'disabled' : ''} href={`#/compare?ids=${picked.join(',')}`}>
          Compare {picked.length} selected
        </a>
      </p>
      <table id="runs">
        <thead>
          <tr>
            <th />
            <th>run</th>
            <th>experiment</th>
            <th>job</th>
            <th>status</th>
            <th>duration</th>
            {metricNames.map((m) => (
              <th class="sortable" data-metric={m} onClick={() => setParams(params, { order_by: nextOrder(order, `metrics.${m}`) })}>
                {m} {order.startsWith(`metrics.${m} `) ? (order.endsWith('desc') ? '▼' : '▲') : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {runs.data.map((r) => (
            <tr data-run={r.id}>
              <td>
                <input type="checkbox" checked={picked.includes(r.id)} onChange={() => toggle(r.id)} />
              </td>
              <td>
                <a href={link('runs', r.id)}>{short(r.id)}</a>
              </td>
              <td>{r.experiment}</td>
              <td>{r.job}</td>
              <td class={`status ${r.status}`}>{r.status}</td>
              <td>{r.duration}</td>
              {metricNames.map((m) => (
                <td class="num">{fmt(r.metrics?.[m])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
