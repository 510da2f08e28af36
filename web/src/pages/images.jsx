// Images: each version with its models, environment, digest and tags.
import { useApi } from '../api.js';
import { Head, Loading, short } from '../ui.jsx';

export function Images() {
  const images = useApi('/images');
  if (!images.data) return <Loading state={images} />;
  return (
    <section>
      <h1>Images</h1>
      <table id="images">
        <Head columns={['name', 'version', 'kind', 'digest', 'models', 'tags', 'size', 'created']} />
        <tbody>
          {images.data.map((i) => (
            <tr>
              <td>{i.name}</td>
              <td>{i.version}</td>
              <td>{i.kind}</td>
              <td>
                <code>{short(i.digest, 19)}</code>
              </td>
              <td>{(i.models || []).map((m) => (typeof m === 'string' ? m : `${m.name}:${m.version}`)).join(', ')}</td>
              <td>{Object.entries(i.tags || {}).map(([k, v]) => `${k}=${v}`).join(' ')}</td>
              <td>{i.size_bytes}</td>
              <td>{i.created_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
