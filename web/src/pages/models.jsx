// The model registry: models with their versions and tags, and a version's
// lineage: version -> the run that produced it -> its code snapshot -> the
// spec commit it was applied from.
import { useApi } from '../api.js';
import { link } from '../router.js';
import { Head, Loading, Pairs, short } from '../ui.jsx';

export function Models() {
  const models = useApi('/models');
  if (!models.data) return <Loading state={models} />;
  return (
    <section>
      <h1>Models</h1>
      <table id="models">
        <Head columns={['name', 'version', 'stage', 'framework', 'tags', 'run', 'created']} />
        <tbody>
          {models.data.map((m) => (
            <tr data-model={`${m.name}:${m.version}`}>
              <td>{m.name}</td>
              <td>
                <a href={link('models', m.name, String(m.version))}>v{m.version}</a>
              </td>
              <td>{m.stage}</td>
              <td>{m.framework}</td>
              <td>
                {Object.entries(m.tags || {}).map(([k, v]) => (
                  <span class="tag">
                    {k}={String(v)}
                  </span>
                ))}
              </td>
              <td>{m.lineage?.run && <a href={link('runs', m.lineage.run)}>{short(m.lineage.run)}</a>}</td>
              <td>{m.created_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function ModelVersion({ name, version }) {
  const model = useApi(`/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`);
  const runId = model.data?.lineage?.run;
  const run = useApi(runId ? `/runs/${runId}` : null);
  if (!model.data) return <Loading state={model} />;
  const m = model.data;
  const r = run.data;
  return (
    <section>
      <h1>
        {m.name} v{m.version}
      </h1>
      <h2>Lineage</h2>
      <ol id="lineage" class="lineage">
        <li data-step="version">
          model <strong>{m.name}:{m.version}</strong> <span class="muted">content {short(m.content_digest)}</span>
        </li>
        <li data-step="run">
          run {runId ? <a href={link('runs', runId)}>{runId}</a> : <span class="muted">registered from a path</span>}{' '}
          <span class="muted">{m.lineage?.experiment} · {m.lineage?.job}</span>
        </li>
        <li data-step="snapshot">snapshot {r ? <code>{short(r.snapshot, 16)}</code> : <span class="muted">-</span>}</li>
        <li data-step="commit">
          spec commit <code>{m.lineage?.spec_commit || r?.spec_commit || '(applied from a working folder)'}</code>
        </li>
      </ol>
      <h2>Tags</h2>
      <Pairs value={m.tags} />
      <h2>Properties</h2>
      <Pairs value={m.properties} />
    </section>
  );
}
