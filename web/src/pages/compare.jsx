// Several runs side by side: each metric's curves overlaid in one chart, and
// only the params (and inputs) whose values differ between the runs.
import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { Chart, metricSeries } from '../chart.jsx';
import { link } from '../router.js';
import { fmt, short } from '../ui.jsx';

async function loadRuns(ids) {
  return Promise.all(ids.map(async (id) => ({ run: await getJson(`/runs/${id}`), points: await getJson(`/runs/${id}/metrics`) })));
}

/// Keys whose values are not all equal across `objects`.
export function differingKeys(objects) {
  const keys = [...new Set(objects.flatMap((o) => Object.keys(o || {})))].sort();
  return keys.filter((k) => new Set(objects.map((o) => JSON.stringify(o?.[k]))).size > 1);
}

export function Compare({ ids }) {
  const [state, setState] = useState({ loaded: null, error: null });
  useEffect(() => {
    loadRuns(ids).then((loaded) => setState({ loaded, error: null }), (error) => setState({ loaded: null, error }));
  }, [ids.join(',')]);
  if (state.error) return <p class="error">{state.error.message}</p>;
  if (!state.loaded) return <p class="muted">Loading…</p>;
  const runs = state.loaded;
  const params = runs.map(({ run }) => ({ ...run.inputs, ...run.params }));
  const differing = differingKeys(params);
  const series = runs.map(({ points }) => metricSeries(points));
  const names = [...new Set(series.flatMap((s) => [...s.keys()]))].sort();
  return (
    <section>
      <h1>Compare {runs.length} runs</h1>
      <h2>Differing params</h2>
      {differing.length ? (
        <table id="differing">
          <thead>
            <tr>
              <th>param</th>
              {runs.map(({ run }) => (
                <th>
                  <a href={link('runs', run.id)}>{short(run.id)}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {differing.map((k) => (
              <tr data-param={k}>
                <th>{k}</th>
                {params.map((p) => (
                  <td>{fmt(typeof p[k] === 'object' ? JSON.stringify(p[k]) : p[k])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">the runs have the same params</p>
      )}
      <h2>Metrics</h2>
      <div class="charts">
        {names.map((name) => (
          <Chart
            id={`compare-${name}`}
            title={name}
            series={runs
              .map(({ run }, i) => ({ label: short(run.id, 24), ...(series[i].get(name) || {}) }))
              .filter((s) => s.xs)}
          />
        ))}
      </div>
    </section>
  );
}
