// The workspace at a glance (GET /api/v1/status). The specs' dependency graph
// needs a route that does not exist yet (GET /api/v1/graph).
import { useApi } from '../api.js';
import { Loading } from '../ui.jsx';

export function StatusPage() {
  const status = useApi('/status');
  if (!status.data) return <Loading state={status} />;
  return (
    <section>
      <h1>Workspace</h1>
      <pre id="status">{JSON.stringify(status.data, null, 2)}</pre>
    </section>
  );
}
