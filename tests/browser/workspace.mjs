// A real workspace for the dashboard's tests and bench: spec folders (by
// default examples/quickstart plus two loss-curve jobs, specs/) copied into
// one and applied by the real amlc CLI; a reader and a
// contributor with tokens made by `amlc users add` / `amlc tokens create`;
// and a real `amlc server` on 127.0.0.1 over it.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const kStartDeadlineMs = 60_000;

export function amlc(binary, home, args) {
  return execFileSync(binary, [...args, '--workspace', home], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tokenFor(binary, home, user, role) {
  amlc(binary, home, ['users', 'add', user, '--role', role]);
  return JSON.parse(amlc(binary, home, ['tokens', 'create', '--user', user, '--json'])).token;
}

/// Waits for `amlc server` to print "on http://127.0.0.1:PORT" in its log.
async function serverAddress(server, logFile) {
  const deadline = Date.now() + kStartDeadlineMs;
  while (Date.now() < deadline) {
    const match = readFileSync(logFile, 'utf8').match(/on (http:\/\/127\.0\.0\.1:\d+)/);
    if (match) return match[1];
    if (server.exitCode !== null) throw new Error(`amlc server exited: ${readFileSync(logFile, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`amlc server printed no address within a minute: ${readFileSync(logFile, 'utf8')}`);
}

/// Applies the specs and starts the server; stop() destroys what was applied
/// (the endpoint's processes) and stops the server.
export async function startWorkspace({ binary, sourceDir, keep, specDirs = ['examples/quickstart', 'tests/browser/specs'] }) {
  const root = mkdtempSync(join(tmpdir(), 'amlc-browser-'));
  const specs = join(root, 'specs');
  const home = join(root, 'home');
  for (const dir of specDirs) cpSync(join(sourceDir, dir), specs, { recursive: true });
  amlc(binary, home, ['apply', specs, '--auto-approve']);
  const contributor = tokenFor(binary, home, 'carol', 'contributor');
  const reader = tokenFor(binary, home, 'rita', 'reader');
  const logFile = join(root, 'server.log');
  const out = openSync(logFile, 'w');
  const server = spawn(binary, ['server', '--listen', '127.0.0.1:0', '--workspace', home], {
    stdio: ['ignore', out, out],
    detached: true,
  });
  const stop = () => {
    try {
      amlc(binary, home, ['destroy', specs, '--auto-approve']);
    } catch (error) {
      console.error(`destroy failed: ${error.stderr || error.message}`);
    }
    if (server.exitCode === null) process.kill(-server.pid, 'SIGTERM');
    if (!keep) rmSync(root, { recursive: true, force: true });
  };
  try {
    const url = await serverAddress(server, logFile);
    return { url, home, specs, contributor, reader, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

