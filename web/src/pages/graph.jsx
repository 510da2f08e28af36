// The dependency graph of the specs last applied to this workspace.
import { useApi } from '../api.js';
import { Loading } from '../ui.jsx';

export function GraphPage() {
  const status = useApi('/status');
  if (!status.data) return <Loading state={status} />;
  return (
    <section>
      <h1>Workspace</h1>
      <pre id="status">{JSON.stringify(status.data, null, 2)}</pre>
    </section>
  );
}
