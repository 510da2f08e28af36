// The dashboard's shell: sign-in gate, navigation, and the page the hash names.
import { render } from 'preact';
import { allows, signOut, token, useApi } from './api.js';
import { useHash } from './router.js';
import { SignIn } from './pages/signin.jsx';
import { Runs } from './pages/runs.jsx';
import { RunPage } from './pages/run.jsx';
import { Compare } from './pages/compare.jsx';
import { Models, ModelVersion } from './pages/models.jsx';
import { Images } from './pages/images.jsx';
import { Endpoints, Deployment } from './pages/endpoints.jsx';
import { Syncs, Sync } from './pages/syncs.jsx';
import { StatusPage } from './pages/status.jsx';
import { Graph } from './pages/graph.jsx';
import './style.css';

const kNav = [
  ['runs', 'Runs'],
  ['models', 'Models'],
  ['images', 'Images'],
  ['endpoints', 'Endpoints'],
  ['syncs', 'Syncs'],
  ['graph', 'Graph'],
  ['status', 'Status'],
];

function Page({ route, me }) {
  const [first, ...rest] = route.parts;
  const can = (needed) => allows(me.role, needed);
  switch (first) {
    case 'runs':
      return rest.length ? <RunPage id={rest[0]} can={can} /> : <Runs params={route.params} />;
    case 'compare':
      return <Compare ids={(route.params.get('ids') || '').split(',').filter(Boolean)} />;
    case 'models':
      return rest.length >= 2 ? <ModelVersion name={rest[0]} version={rest[1]} /> : <Models />;
    case 'images':
      return <Images />;
    case 'endpoints':
      return <Endpoints />;
    case 'deployments':
      return <Deployment name={rest[0]} can={can} />;
    case 'syncs':
      return rest.length ? <Sync id={rest[0]} /> : <Syncs />;
    case 'graph':
      return <Graph />;
    case 'status':
      return <StatusPage />;
    default:
      location.hash = '#/runs';
      return null;
  }
}

function App() {
  const route = useHash();
  const signedIn = token() !== '' && route.parts[0] !== 'signin';
  const me = useApi(signedIn ? '/whoami' : null);
  if (!signedIn) return <SignIn />;
  if (!me.data) return <p class="muted">{me.error ? me.error.message : 'Signing in…'}</p>;
  return (
    <div class="app">
      <header>
        <strong>amlc</strong>
        <nav>
          {kNav.map(([path, label]) => (
            <a href={`#/${path}`} class={route.parts[0] === path ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" data-role={me.data.role}>
          {me.data.user} ({me.data.role}) <button onClick={signOut}>Sign out</button>
        </span>
      </header>
      <main>
        <Page route={route} me={me.data} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
