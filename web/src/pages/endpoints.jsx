// Endpoints with their deployments' health and traffic split, and one
// deployment's request rate and latency from its telemetry (refreshed live).
import { useMemo, useState } from 'preact/hooks';
import { getJson, useApi } from '../api.js';
import { Chart } from '../chart.jsx';
import { link } from '../router.js';
import { Head, Loading, Pairs } from '../ui.jsx';

const kRefreshMs = 2000;

export function Endpoints() {
  const endpoints = useApi('/endpoints', kRefreshMs);
  if (!endpoints.data) return <Loading state={endpoints} />;
  return (
    <section>
      <h1>Endpoints</h1>
      {endpoints.data.map((e) => (
        <div class="card" data-endpoint={e.name}>
          <h2>{e.name}</h2>
          <table>
            <Head columns={['deployment', 'traffic', 'state', 'ready', 'image']} />
            <tbody>
              {(e.deployments || []).map((d) => (
                <tr data-deployment={d.name}>
                  <td>
                    <a href={link('deployments', d.name)}>{d.name}</a>
                  </td>
                  <td class="num">{e.traffic?.[d.name] ?? 0}%</td>
                  <td class={`state ${d.state}`}>{d.state}</td>
                  <td>
                    {d.ready_replicas}/{d.desired_replicas}
                  </td>
                  <td>{d.image}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

/// Telemetry lines ({time ms, latency_ms, status}) as per-second series:
/// requests per second and median latency.
export function perSecond(lines) {
  const buckets = new Map();
  for (const line of lines) {
    const second = Math.floor(line.time / 1000);
    if (!buckets.has(second)) buckets.set(second, []);
    buckets.get(second).push(line.latency_ms ?? 0);
  }
  const seconds = [...buckets.keys()].sort((a, b) => a - b);
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    xs: seconds,
    rate: seconds.map((s) => buckets.get(s).length),
    latency: seconds.map((s) => median(buckets.get(s))),
  };
}

function Keys({ name }) {
  const [keys, setKeys] = useState(null);
  if (keys) return <Pairs value={keys} />;
  return (
    <button id="show-keys" onClick={() => getJson(`/deployments/${name}/keys`).then(setKeys, (e) => alert(e.message))}>
      Show keys
    </button>
  );
}

export function Deployment({ name, can }) {
  const deployment = useApi(`/deployments/${encodeURIComponent(name)}`, kRefreshMs);
  const telemetry = useApi(`/deployments/${encodeURIComponent(name)}/telemetry?limit=20000`, kRefreshMs);
  const series = useMemo(() => perSecond(telemetry.data || []), [telemetry.data]);
  if (!deployment.data) return <Loading state={deployment} />;
  const d = deployment.data;
  return (
    <section>
      <h1>
        Deployment {d.name} <span class={`state ${d.state}`}>{d.state}</span>
      </h1>
      <p class="muted">
        endpoint {d.endpoint} · {d.ready_replicas}/{d.desired_replicas} replicas ready · revision {d.revision} ·{' '}
        <code>{d.scoring_uri}</code>
      </p>
      {d.message && <p>{d.message}</p>}
      <p class="muted" id="telemetry-count">
        {(telemetry.data || []).length} requests recorded
      </p>
      <div class="charts">
        <Chart id="requests" title="requests / s" xTime series={[{ label: 'requests', xs: series.xs, ys: series.rate }]} />
        <Chart id="latency" title="median latency (ms)" xTime series={[{ label: 'p50 ms', xs: series.xs, ys: series.latency }]} />
      </div>
      {can('contributor') && (
        <>
          <h2>Keys</h2>
          <Keys name={name} />
        </>
      )}
      <h2>Events</h2>
      <ul class="events">
        {(d.events || []).map((e) => (
          <li>{JSON.stringify(e)}</li>
        ))}
      </ul>
    </section>
  );
}
