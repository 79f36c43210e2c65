/**
 * The "Done when" figure of issue 9: per vendor, the largest history (events and bytes of one run)
 * of the longest flows the tests run. Runs the bounded-history tests (time-skipping server, the
 * vendors' real durations), reads the "<flow>, per run: [...]" lines they print (test/helpers/
 * history-size.ts runSizes), and prints a Markdown table for docs/api.md.
 *
 *   npm run history-figures
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { RunSize } from './helpers/history-size';

const FILES = [
  'test/history-sizes.test.ts',
  'test/finwave-deadlines.test.ts',
  'test/id360-deadlines.test.ts',
  'test/fourthline-deadlines.test.ts',
];

const root = path.join(__dirname, '..');
const res = spawnSync('npx', ['jest', ...FILES], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
  timeout: 15 * 60_000,
});
const out = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
if (res.status !== 0) {
  process.stderr.write(
    out
      .split('\n')
      .filter((l) => /✕|●|Tests:/.test(l))
      .join('\n') + '\n',
  );
  throw new Error(`the tests failed (exit ${res.status}): no figures`);
}

interface Flow {
  vendor: string;
  flow: string;
  runs: RunSize[];
}
const flows: Flow[] = [];
for (const m of out.matchAll(/^\s*(\w+) (.+?), per run: (\[.*\])\s*$/gm)) {
  flows.push({ vendor: m[1]!.toLowerCase(), flow: m[2]!, runs: JSON.parse(m[3]!) as RunSize[] });
}
const vendors = ['finwave', 'fourthline', 'id360', 'authenteq', 'namirial'];
const rows = vendors.map((vendor) => {
  const mine = flows.filter((f) => f.vendor === vendor);
  if (mine.length === 0) return `| ${vendor} | (no figure printed) | | | |`;
  // The largest single run (what Temporal's limits apply to), and the flow it belongs to.
  const best = mine
    .flatMap((f) => f.runs.map((r) => ({ f, r })))
    .sort((a, b) => b.r.events - a.r.events || b.r.bytes - a.r.bytes)[0]!;
  return `| ${vendor} | ${best.f.flow} | ${best.f.runs.length} | ${best.r.events.toLocaleString('en')} | ${best.r.bytes.toLocaleString('en')} |`;
});
console.log('| vendor | longest flow the tests run | runs | largest run: events | largest run: bytes |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
