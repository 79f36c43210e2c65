/**
 * `npm run demo`: with `npm start` running, plays each vendor's happy path and one unhappy path end to
 * end (sandboxes/play.ts: our API as the integrator's backend, the sandbox controls as the user),
 * printing a line per step, then the Web UI link of every workflow and the list query that shows them.
 * `npm run demo -- --all` plays every ending the sandboxes offer (the normalized-model test's list).
 *
 * Where the stack is (defaults: `npm start`'s): IDV_API, IDV_SANDBOX, IDV_API_KEY, IDV_WEB_UI,
 * TEMPORAL_NAMESPACE. Exits 1 when a flow does not reach its expected ending.
 */
import crypto from 'node:crypto';
import { SCENARIOS, waitForEnd, type PlayTarget } from './play';

const target: PlayTarget = {
  api: process.env.IDV_API ?? 'http://localhost:8080',
  sandbox: process.env.IDV_SANDBOX ?? 'http://localhost:8090',
  key: process.env.IDV_API_KEY ?? 'dev-api-key',
};
const ui = process.env.IDV_WEB_UI ?? 'http://localhost:8233';
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';

async function main(): Promise<number> {
  try {
    const ready = await fetch(`${target.api}/readyz`);
    if (!ready.ok) throw new Error(`readyz answered ${ready.status}`);
  } catch (err) {
    console.error(
      `demo: the API at ${target.api} is not ready (${(err as Error).message}): run \`npm start\` in another terminal first (or set IDV_API)`,
    );
    return 1;
  }
  const run = `${new Date().toISOString().slice(11, 19).replace(/:/g, '')}${crypto.randomBytes(2).toString('hex')}`;
  const chosen = process.argv.includes('--all') ? SCENARIOS : SCENARIOS.filter((s) => s.demo);
  console.log(`Playing ${chosen.length} flows against ${target.api} (sandboxes ${target.sandbox}), run ${run}\n`);
  const results: { label: string; id: string; ending: string; expected: string; ok: boolean }[] = [];
  for (const s of chosen) {
    const label = `${s.provider} ${s.name}`;
    const expected = `${s.expected.status}/${s.expected.outcome}`;
    const log = (line: string) => console.log(`[${label}] ${line}`);
    try {
      const id = await s.play(target, `demo-${run}-${s.name}`, log);
      const v = await waitForEnd(target, id, 60_000);
      const ending = `${v.status}/${v.outcome}`;
      log(`ended ${ending}: ${v.reason ?? ''} ${ending === expected ? '(as expected)' : `(EXPECTED ${expected})`}`);
      results.push({ label, id, ending, expected, ok: ending === expected });
    } catch (err) {
      log(`FAILED: ${(err as Error).message}`);
      results.push({ label, id: '-', ending: 'error in the demo', expected, ok: false });
    }
  }
  console.log('\nWorkflows in the Temporal Web UI:');
  const width = Math.max(...results.map((r) => r.label.length));
  for (const r of results) {
    const link = r.id === '-' ? '' : `${ui}/namespaces/${namespace}/workflows/${encodeURIComponent(r.id)}`;
    console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.label.padEnd(width)}  ${r.ending.padEnd(18)} ${link}`);
  }
  const list = chosen.map((s) => s.provider).filter((p, i, all) => all.indexOf(p) === i);
  const q = list.map((p) => `WorkflowId STARTS_WITH "${p}:demo-${run}-"`).join(' OR ');
  console.log(`\nAll of them in one list (query): ${q}`);
  console.log(`  ${ui}/namespaces/${namespace}/workflows?query=${encodeURIComponent(q)}`);
  const failed = results.filter((r) => !r.ok);
  console.log(
    failed.length ? `\n${failed.length} flow(s) did not end as expected.` : `\nEvery flow ended as expected.`,
  );
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`demo: ${(err as Error).message}`);
    process.exit(1);
  },
);
