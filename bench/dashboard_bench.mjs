// The dashboard's first paint of a run with 100,000 metric points, beside the
// raw JSON download of the same points, measured in the same headless
// Chromium against the same `amlc server`. Prints the medians and their
// ratio; never fails on timing.
//   node bench/dashboard_bench.mjs --amlc build/cli/amlc --source . [--repeat 5]
import { parseArgs } from 'node:util';
import { eventually, launch } from '../tests/browser/browser.mjs';
import { startWorkspace } from '../tests/browser/workspace.mjs';

const { values: args } = parseArgs({
  options: { amlc: { type: 'string' }, source: { type: 'string' }, repeat: { type: 'string', default: '5' } },
});
const kPoints = 100_000;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/// One cold page load of the run page: ms from navigation start until the
/// loss chart's first draw (uPlot's draw hook), and the points it drew.
async function firstPaint(browser, url, token, runId) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((value) => sessionStorage.setItem('amlc.token', value), token);
  const page = await context.newPage();
  await page.goto(`${url}/#/runs/${runId}`);
  const drawn = await eventually('the loss chart', () =>
    page.evaluate(() => {
      const chart = window.__amlcCharts?.['metric-loss'];
      return chart?.drawnAt ? { ms: chart.drawnAt, points: chart.data[0].length } : null;
    }),
  );
  await context.close();
  return drawn;
}

/// The baseline: the same points as raw JSON, fetched by the same browser (ms, bytes).
async function rawDownload(browser, url, token, runId) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${url}/api/v1/openapi.json`);
  const result = await page.evaluate(
    async ({ path, value }) => {
      const started = performance.now();
      const text = await (await fetch(path, { headers: { Authorization: `Bearer ${value}` } })).text();
      return { ms: performance.now() - started, bytes: text.length };
    },
    { path: `/api/v1/runs/${runId}/metrics`, value: token },
  );
  await context.close();
  return result;
}

async function main() {
  const browser = await launch(args.source);
  const started = Date.now();
  const workspace = await startWorkspace({
    binary: args.amlc,
    sourceDir: args.source,
    specDirs: ['examples/quickstart', 'bench/dashboard/specs'],
  });
  console.log(`workspace with a ${kPoints}-point run applied in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  try {
    const runs = await (
      await fetch(`${workspace.url}/api/v1/runs?experiment=bench`, { headers: { Authorization: `Bearer ${workspace.reader}` } })
    ).json();
    const runId = runs[0].id;
    const paints = [];
    const downloads = [];
    for (let i = 0; i < Number(args.repeat); ++i) {
      downloads.push(await rawDownload(browser, workspace.url, workspace.reader, runId));
      paints.push(await firstPaint(browser, workspace.url, workspace.reader, runId));
    }
    const paint = median(paints.map((p) => p.ms));
    const download = median(downloads.map((d) => d.ms));
    console.log(`points drawn: ${paints[0].points}; JSON: ${(downloads[0].bytes / 1e6).toFixed(1)} MB`);
    console.log(`baseline  raw JSON download of the points (median of ${args.repeat}): ${download.toFixed(0)} ms`);
    console.log(`dashboard first paint of the run's chart   (median of ${args.repeat}): ${paint.toFixed(0)} ms`);
    console.log(`ratio first paint / raw download: ${(paint / download).toFixed(2)}`);
  } finally {
    await browser.close();
    workspace.stop();
  }
}

main().catch((error) => {
  console.error(`dashboard bench could not run: ${error.stack || error.message}`);
});
