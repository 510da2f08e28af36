// A run's code snapshot as a folder tree (GET /runs/{id}/snapshot/files).
import { useApi } from '../api.js';
import { short } from '../ui.jsx';

/// Nests '/'-separated paths: {name, children: Map, file}.
function treeOf(files) {
  const root = { name: '', children: new Map() };
  for (const file of files) {
    let node = root;
    for (const part of file.path.split('/')) {
      if (!node.children.has(part)) node.children.set(part, { name: part, children: new Map() });
      node = node.children.get(part);
    }
    node.file = file;
  }
  return root;
}

function Node({ node }) {
  return (
    <ul>
      {[...node.children.values()].map((child) => (
        <li data-path={child.file?.path}>
          {child.file ? (
            <span>
              {child.name} <span class="muted">{child.file.size} B · {short(child.file.digest, 8)}</span>
            </span>
          ) : (
            <details open>
              <summary>{child.name}/</summary>
              <Node node={child} />
            </details>
          )}
        </li>
      ))}
    </ul>
  );
}

export function SnapshotFiles({ id }) {
  const snapshot = useApi(`/runs/${id}/snapshot/files`);
  if (snapshot.error) return <p class="muted">{snapshot.error.message}</p>;
  if (!snapshot.data) return null;
  return (
    <div id="snapshot" class="tree">
      <Node node={treeOf(snapshot.data.files)} />
    </div>
  );
}
