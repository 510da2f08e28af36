// The dashboard in a real browser against a real `amlc server`: sign in, sort
// the runs table by a metric, a run's loss chart holds the logged points,
// two runs compared, a model's lineage, the specs' dependency graph, a deployment's request chart moving
// while requests are sent, and a Reader not offered a Contributor's action.
// Screenshots of each page go to --out.
//   node dashboard_test.mjs --amlc build/cli/amlc --source . --out build/browser-screenshots
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { eventually, launch, steps } from './browser.mjs';
import { startWorkspace } from './workspace.mjs';

const { values: args } = parseArgs({
  options: { amlc: { type: 'string' }, source: { type: 'string' }, out: { type: 'string' }, keep: { type: 'boolean' } },
});
const lossOf = (lr, epoch) => 0.1 + lr * Math.exp(-epoch / 10.0);

/// Run ids of the table's rows, in order.
const tableRuns = (page) => page.$$eval('#runs tbody tr', (rows) => rows.map((r) => r.dataset.run));

async function signIn(page, url, token) {
  await page.goto(`${url}/#/signin`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('#runs tbody tr');
}

async function chartData(page, id) {
  return page.evaluate((chart) => window.__amlcCharts[chart]?.data.map((column) => Array.from(column)), id);
}

async function main() {
  const browser = await launch(args.source);
  const workspace = await startWorkspace({ binary: args.amlc, sourceDir: args.source, keep: args.keep });
  const t = steps(args.out);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    const runIds = JSON.parse(
      (await (await fetch(`${workspace.url}/api/v1/runs`, { headers: { Authorization: `Bearer ${workspace.reader}` } })).text()),
    );
    const runOf = (job) => runIds.find((r) => r.job === `job/${job}` || r.job === job).id;
    const fast = runOf('curve-fast');
    const slow = runOf('curve-slow');

    await t.step('sign in with a token and see the runs table', async () => {
      await page.goto(`${workspace.url}/`);
      await page.waitForSelector('input[name=token]');
      await t.shot(page, 'signin');
      await signIn(page, workspace.url, workspace.contributor);
      assert.equal(await page.textContent('.who'), 'carol (contributor) Sign out');
      assert.equal((await tableRuns(page)).length, 3);
      await t.shot(page, 'runs');
    });

    await t.step('sort the runs by a metric, both ways', async () => {
      await page.click('th[data-metric=final_loss]');
      await eventually('runs sorted by final_loss desc', async () => {
        const order = (await tableRuns(page)).filter((id) => id === fast || id === slow);
        return page.url().includes('order_by=metrics.final_loss+desc') && order[0] === fast && order[1] === slow;
      });
      await page.click('th[data-metric=final_loss]');
      await eventually('runs sorted by final_loss asc', async () => {
        const order = (await tableRuns(page)).filter((id) => id === fast || id === slow);
        return page.url().includes('order_by=metrics.final_loss+asc') && order[0] === slow && order[1] === fast;
      });
      await t.shot(page, 'runs-sorted');
    });

    await t.step("open a run: its loss chart holds the logged points, its log and snapshot", async () => {
      await page.click(`tr[data-run="${fast}"] a`);
      const data = await eventually('the loss chart', () => chartData(page, 'metric-loss'));
      assert.deepEqual(data[0], [...Array(30).keys()]);
      data[1].forEach((y, epoch) => assert.ok(Math.abs(y - lossOf(2.0, epoch)) < 1e-9, `loss at ${epoch}: ${y}`));
      await page.waitForSelector('#log:has-text("trained 30 epochs with lr=2.0")');
      await page.waitForSelector('#snapshot [data-path="curve.py"]');
      await t.shot(page, 'run');
    });

    await t.step('compare two runs: curves overlaid, only the differing params', async () => {
      await page.goto(`${workspace.url}/#/runs?experiment=curves`);
      await page.waitForSelector(`tr[data-run="${slow}"]`);
      await page.check(`tr[data-run="${fast}"] input[type=checkbox]`);
      await page.check(`tr[data-run="${slow}"] input[type=checkbox]`);
      await page.click('#compare');
      const data = await eventually('the overlaid loss chart', () => chartData(page, 'compare-loss'));
      assert.equal(data.length, 3, 'x and one series per run');
      assert.ok(Math.abs(data[1][0] - lossOf(2.0, 0)) < 1e-9 && Math.abs(data[2][0] - lossOf(0.5, 0)) < 1e-9);
      const differing = await page.$$eval('#differing tbody tr', (rows) => rows.map((r) => r.dataset.param));
      assert.deepEqual(differing, ['lr']);
      await t.shot(page, 'compare');
    });

    await t.step("open a model's lineage: version -> run -> snapshot -> commit", async () => {
      await page.goto(`${workspace.url}/#/models`);
      await page.click('tr[data-model="iris-classifier:1"] a');
      await page.waitForSelector('#lineage [data-step=snapshot] code');
      const train = runOf('train-iris');
      assert.ok((await page.textContent('#lineage [data-step=run]')).includes(train));
      await t.shot(page, 'model-lineage');
    });

    await t.step('the dependency graph of the specs: every resource and dependency the API lists, drawn', async () => {
      const graph = await (
        await fetch(`${workspace.url}/api/v1/graph`, { headers: { Authorization: `Bearer ${workspace.reader}` } })
      ).json();
      await page.goto(`${workspace.url}/#/graph`);
      await page.waitForSelector('#graph .node');
      const nodes = await page.$$eval('#graph .node', (all) => all.map((n) => `${n.dataset.kind} ${n.dataset.id}`).sort());
      assert.deepEqual(nodes, graph.resources.map((r) => `${r.kind} ${r.id}`).sort());
      const edges = await page.$$eval('#graph .edge', (all) => all.map((e) => `${e.dataset.from} -> ${e.dataset.to}`).sort());
      const expected = graph.resources.flatMap((r) => r.depends_on.map((d) => `${d} -> ${r.id}`)).sort();
      assert.ok(expected.length > 0, 'the specs have dependencies');
      assert.deepEqual(edges, expected);
      assert.ok(expected.some((e) => e.endsWith('-> job/curve-fast')), 'curve-fast depends on its compute and environment');
      await t.shot(page, 'graph');
      await page.click('#graph [data-link="job/curve-fast"]');
      await page.waitForSelector(`#log:has-text("trained 30 epochs with lr=2.0")`);
      assert.ok(page.url().endsWith(`#/runs/${fast}`), page.url());
    });

    await t.step("a deployment's request chart moves while requests are sent", async () => {
      await page.goto(`${workspace.url}/#/endpoints`);
      await page.waitForSelector('tr[data-deployment=blue]');
      await t.shot(page, 'endpoints');
      await page.click('tr[data-deployment=blue] a');
      await page.waitForSelector('#show-keys');
      const total = async () => ((await chartData(page, 'requests')) || [[], []])[1].reduce((a, b) => a + (b || 0), 0);
      const before = await total();
      const headers = { Authorization: `Bearer ${workspace.contributor}` };
      const deployment = await (await fetch(`${workspace.url}/api/v1/deployments/blue`, { headers })).json();
      const keys = await (await fetch(`${workspace.url}/api/v1/deployments/blue/keys`, { headers })).json();
      const request = (await import('node:fs')).readFileSync(`${workspace.specs}/sample-request.json`, 'utf8');
      let sent = 0;
      await eventually('the request chart to count new requests', async () => {
        const answer = await fetch(deployment.scoring_uri, {
          method: 'POST',
          headers: { Authorization: `Bearer ${keys.primary}`, 'Content-Type': 'application/json' },
          body: request,
        });
        assert.equal(answer.status, 200, await answer.text());
        sent += 1;
        return (await total()) > before;
      });
      console.log(`(${sent} requests sent) `);
      await t.shot(page, 'deployment');
    });

    await t.step('a Reader is not offered what needs a Contributor', async () => {
      const reader = await browser.newPage();
      await signIn(reader, workspace.url, workspace.reader);
      await reader.goto(`${workspace.url}/#/deployments/blue`);
      await reader.waitForSelector('#telemetry-count');
      assert.equal(await reader.locator('#show-keys').count(), 0);
      await reader.close();
    });
  } finally {
    await browser.close();
    workspace.stop();
    console.log(`screenshots:\n${t.shots.join('\n')}`);
  }
}

main().catch((error) => {
  console.error(`\nFAILED: ${error.stack || error.message}`);
  process.exit(1);
});
