#!/usr/bin/env node
// The README's shell helper (plain Node, no dependencies, no jq needed):
//
//   … | node sandboxes/idv.js get id                     prints a field of the JSON on stdin ("a.b.0.c");
//                                                         exits 1, saying what it got, if the field is missing
//   node sandboxes/idv.js wait "$API" "$V" [seconds]     polls GET $API/v1/verifications/$V until it has
//                                                         ended (default 30 s), prints it; exit 1 on timeout
//   node sandboxes/idv.js next "$API" "$V" [seconds]     polls until nextAction names a step for you (an
//                                                         `action` or a `redirect`), prints it: the vendor may
//                                                         be processing between two steps (nextAction `wait`)
//
// The API key: IDV_API_KEY, default the development key `dev-api-key`.
'use strict';

const [, , command, ...args] = process.argv;

function fail(message) {
  process.stderr.write(`idv.js: ${message}\n`);
  process.exit(1);
}

function field(json, path) {
  let v = json;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || !(part in v)) return undefined;
    v = v[part];
  }
  return v;
}

async function main() {
  if (command === 'get' && args.length === 1) {
    const text = require('node:fs').readFileSync(0, 'utf8');
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      fail(`stdin is not JSON: ${text.slice(0, 300)}`);
    }
    const v = field(json, args[0]);
    if (v === undefined || v === null) fail(`no ${args[0]} in ${text.slice(0, 500)}`);
    process.stdout.write(`${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
    return;
  }
  if ((command === 'wait' || command === 'next') && (args.length === 2 || args.length === 3)) {
    const [api, id, seconds = '30'] = args;
    const key = process.env.IDV_API_KEY || 'dev-api-key';
    const deadline = Date.now() + Number(seconds) * 1000;
    for (;;) {
      const res = await fetch(`${api}/v1/verifications/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const body = await res.json();
      if (res.status !== 200) fail(`GET ${id} answered ${res.status}: ${JSON.stringify(body)}`);
      const ended = ['completed', 'failed', 'expired', 'cancelled'].includes(body.status);
      if (command === 'next' && !ended && ['action', 'redirect'].includes(body.nextAction && body.nextAction.type)) {
        const n = body.nextAction;
        process.stdout.write(`${n.type === 'action' ? n.action : n.url}  (${n.reason || n.type})\n`);
        return;
      }
      if (command === 'next' && ended) fail(`${id} has ended: ${body.status}/${body.outcome}: ${body.reason}`);
      if (ended) {
        process.stdout.write(
          `${JSON.stringify({ id: body.id, status: body.status, outcome: body.outcome, reason: body.reason, nextAction: body.nextAction })}\n`,
        );
        return;
      }
      if (Date.now() > deadline)
        fail(`${id} has not ended after ${seconds} s: ${body.status}, next ${JSON.stringify(body.nextAction)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  fail(
    'usage: … | node sandboxes/idv.js get <field>   or   node sandboxes/idv.js wait|next <api base URL> <verification id> [seconds]',
  );
}

main().catch((err) => fail(err.message));
