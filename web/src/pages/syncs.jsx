// The reconciler's sync history, and one sync with its plan and apply log.
import { useApi } from '../api.js';
import { link } from '../router.js';
import { Head, Loading, short } from '../ui.jsx';

export function Syncs() {
  const syncs = useApi('/syncs', 5000);
  if (!syncs.data) return <Loading state={syncs} />;
  if (!syncs.data.length) return <p class="muted">No syncs: no reconciler has run against this workspace.</p>;
  return (
    <section>
      <h1>Syncs</h1>
      <table id="syncs">
        <Head columns={['id', 'trigger', 'commit', 'result', 'summary', 'duration']} />
        <tbody>
          {syncs.data.map((s) => (
            <tr>
              <td>
                <a href={link('syncs', String(s.id))}>{s.id}</a>
              </td>
              <td>{s.trigger}</td>
              <td>
                <code>{short(s.commit, 10)}</code> {s.message}
              </td>
              <td class={`result ${s.result}`}>{s.result}</td>
              <td>{s.summary}</td>
              <td>{s.duration_ms} ms</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Sync({ id }) {
  const sync = useApi(`/syncs/${id}`);
  if (!sync.data) return <Loading state={sync} />;
  const s = sync.data;
  return (
    <section>
      <h1>
        Sync {s.id} <span class={`result ${s.result}`}>{s.result}</span>
      </h1>
      <p class="muted">
        {s.trigger} · commit <code>{s.commit}</code> by {s.author}: {s.message}
      </p>
      <h2>Plan</h2>
      <pre id="plan">{JSON.stringify(s.plan, null, 2)}</pre>
      <h2>Apply log</h2>
      <pre class="log">{s.apply_log}</pre>
    </section>
  );
}
