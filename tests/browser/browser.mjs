// Headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser)
// driven by playwright-core, and the small step runner the tests use.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

/// playwright-core from web/node_modules (the only npm tree in the repository).
export function loadPlaywright(sourceDir) {
  const require = createRequire(resolve(sourceDir, 'web/package.json'));
  return require('playwright-core');
}

export async function launch(sourceDir) {
  const { chromium } = loadPlaywright(sourceDir);
  const executablePath = process.env.AMLC_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    console.log(`skipped: no browser at ${executablePath} (scripts/install-deps.sh installs Debian's chromium)`);
    process.exit(77);
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/// Runs named steps in order, printing each; the first failure ends the run.
export function steps(screenshotDir) {
  mkdirSync(screenshotDir, { recursive: true });
  const shots = [];
  return {
    shots,
    async step(name, body) {
      const started = Date.now();
      process.stdout.write(`step: ${name} ... `);
      await body();
      console.log(`ok (${Date.now() - started} ms)`);
    },
    async shot(page, name) {
      const path = join(screenshotDir, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      shots.push(path);
    },
  };
}

/// Polls `check` (an async function returning truthy when done) until it holds.
export async function eventually(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
