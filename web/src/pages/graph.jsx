// The dependency graph of the specs last applied (GET /api/v1/graph, what
// `amlc graph --format json` prints): a layered drawing, left to right, each
// resource one layer after the deepest of its dependencies, coloured by kind;
// an edge runs from a dependency to what depends on it. A node links to its
// page where the dashboard has one (a job to its latest run).
import { useApi } from '../api.js';
import { link } from '../router.js';
import { Loading } from '../ui.jsx';

const kNodeW = 150;
const kNodeH = 34;
const kGapX = 48;
const kGapY = 14;
const kColors = {
  workspace: '#6b7a8f', datastore: '#8a6d3b', compute: '#2c7a7b', environment: '#2f855a', experiment: '#b7791f',
  job: '#1f5fa8', model: '#805ad5', image: '#c05621', endpoint: '#b83280', deployment: '#c53030',
};
const colorOf = (kind) => kColors[kind] || '#4a5568';

/// Layer of each resource (longest path from a resource with no dependency),
/// and within a layer an order by the mean position of its dependencies.
/// `order` is the API's topological order (dependencies first), so one pass
/// without recursion does, however long the chains.
export function layout(resources, order) {
  const byId = new Map(resources.map((r) => [r.id, r]));
  const layer = new Map();
  const ids = [...(order || []).filter((id) => byId.has(id)), ...resources.map((r) => r.id)];
  for (const id of ids) {
    if (layer.has(id)) continue;
    const deps = (byId.get(id).depends_on || []).filter((d) => layer.has(d));
    layer.set(id, deps.length ? 1 + Math.max(...deps.map((d) => layer.get(d))) : 0);
  }
  const columns = [];
  for (const r of resources) (columns[layer.get(r.id)] ||= []).push(r);
  const row = new Map();
  columns.forEach((column, x) => {
    const key = (r) => {
      const deps = (r.depends_on || []).filter((d) => row.has(d));
      return x && deps.length ? deps.reduce((sum, d) => sum + row.get(d), 0) / deps.length : -1;
    };
    column.sort((a, b) => key(a) - key(b) || a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
    column.forEach((r, y) => row.set(r.id, y));
  });
  const position = new Map();
  resources.forEach((r) => position.set(r.id, { x: layer.get(r.id) * (kNodeW + kGapX), y: row.get(r.id) * (kNodeH + kGapY) }));
  const height = Math.max(...columns.map((c) => c.length)) * (kNodeH + kGapY);
  return { position, width: columns.length * (kNodeW + kGapX) - kGapX, height };
}

/// The dashboard page of a resource, or null.
function pageOf(resource, latestRun) {
  const name = resource.name;
  switch (resource.kind) {
    case 'job':
      return latestRun.get(resource.parent || resource.id) ? link('runs', latestRun.get(resource.parent || resource.id)) : null;
    case 'experiment':
      return `#/runs?experiment=${encodeURIComponent(name)}`;
    case 'model':
      return link('models');
    case 'image':
      return link('images');
    case 'endpoint':
      return link('endpoints');
    case 'deployment':
      return link('deployments', name);
    default:
      return null;
  }
}

export function Graph() {
  const graph = useApi('/graph');
  const runs = useApi('/runs?limit=1000');
  if (!graph.data) {
    if (graph.error?.status === 404) return <p class="muted" id="graph-none">{graph.error.message}</p>;
    return <Loading state={graph} />;
  }
  const resources = graph.data.resources;
  const latestRun = new Map();
  for (const run of runs.data || []) {
    const job = run.job.startsWith('job/') ? run.job : `job/${run.job}`;
    const known = latestRun.get(job);
    if (!known || run.created_at > known.created_at) latestRun.set(job, run);
  }
  const latestId = new Map([...latestRun].map(([job, run]) => [job, run.id]));
  const { position, width, height } = layout(resources, graph.data.order);
  const edges = resources.flatMap((r) => (r.depends_on || []).filter((d) => position.has(d)).map((d) => [d, r.id]));
  const kinds = [...new Set(resources.map((r) => r.kind))].sort();
  return (
    <section>
      <h1>Dependency graph</h1>
      <p class="muted">
        {resources.length} resources, {edges.length} dependencies: the specs last applied to this workspace.{' '}
        {kinds.map((k) => (
          <span class="tag" style={`border-left: 4px solid ${colorOf(k)}`}>{k}</span>
        ))}
      </p>
      <div class="graph">
        <svg id="graph" width={width + 20} height={height + 20} viewBox={`-10 -10 ${width + 20} ${height + 20}`}>
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" fill="#999" />
            </marker>
          </defs>
          {edges.map(([from, to]) => {
            const a = position.get(from);
            const b = position.get(to);
            const x1 = a.x + kNodeW;
            const y1 = a.y + kNodeH / 2;
            const x2 = b.x;
            const y2 = b.y + kNodeH / 2;
            const mid = (x1 + x2) / 2;
            return (
              <path class="edge" data-from={from} data-to={to} d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
                fill="none" stroke="#999" marker-end="url(#arrow)" />
            );
          })}
          {resources.map((r) => {
            const p = position.get(r.id);
            const href = pageOf(r, latestId);
            const label = `${r.name}${r.version ? `:${r.version}` : ''}`;
            const node = (
              <g class="node" data-id={r.id} data-kind={r.kind} transform={`translate(${p.x},${p.y})`}>
                <title>{`${r.id}${r.type ? ` (${r.type})` : ''}`}</title>
                <rect width={kNodeW} height={kNodeH} rx="4" fill="#fff" stroke={colorOf(r.kind)} stroke-width="2" />
                <rect width="6" height={kNodeH} rx="2" fill={colorOf(r.kind)} />
                <text x="12" y="13" font-size="10" fill={colorOf(r.kind)}>{r.kind}{r.parent ? ' step' : ''}</text>
                <text x="12" y="27" font-size="12">{label.length > 21 ? `${label.slice(0, 20)}…` : label}</text>
              </g>
            );
            return href ? <a href={href} data-link={r.id}>{node}</a> : node;
          })}
        </svg>
      </div>
    </section>
  );
}
