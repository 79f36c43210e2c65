/**
 * `npm run record-histories`: records the replay corpus (test/histories/*.json) on a real stack.
 *
 * Starts its own in-memory dev server (or uses TEMPORAL_TEST_ADDRESS), the sandboxes, the worker
 * and the API (test/helpers/stack.ts), plays a fixed list of flows (SCENARIOS: every vendor, each
 * normalized ending, the human-step paths), checks each one ended as listed, and writes each
 * workflow's history (children included) as `temporal workflow show -o json` does. Payloads are
 * encrypted under the corpus test key (test/fixtures/payload-keys.ts), so the files hold ciphertext
 * of sandbox values only. The top-level *.json files are replaced as a whole: the corpus is exactly
 * what SCENARIOS lists. One lane per vendor, run side by side; about a minute.
 *
 * Re-record after a deliberate change of workflow code (README "Changing workflow code").
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection } from '@temporalio/worker';
import { dataConverter } from '../codec';
import { ensureTemporalCli } from '../temporal-dev/ensure';
import { freePort, startDevServer, type DevServerHandle } from '../temporal-dev/dev-server';
import type { Provider, VerificationState } from '../workflows/shared';
import { FOURTHLINE_CASE_MEMO_KEY } from '../workflows/fourthline';
import { CORPUS_KEY, corpusKeyring } from './fixtures/payload-keys';
import { control, startStack, type Stack } from './helpers/stack';
import { fourthlineFlow } from './helpers/fourthline';
import { installTestRuntime, TEST_ADDRESS_ENV } from './helpers/temporal';

const OUT = path.join(__dirname, 'histories');

interface Scenario {
  /** File name: `<provider>-<name>.json` (children: `.attempt-<n>` before `.json`). */
  name: string;
  provider: Provider;
  /** The ending the recording must show: `status/outcome` (outcome `-` for none). */
  ending: string | RegExp;
  /** Plays the flow up to its end; answers the reference's verification id. */
  run(s: Stack, reference: string): Promise<string>;
}

const png = () => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), crypto.randomBytes(64)]).toString('base64');
const jpeg = () => Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), crypto.randomBytes(64)]).toString('base64');

async function create(s: Stack, body: Record<string, unknown>): Promise<VerificationState> {
  const res = await s.api('POST', '/v1/verifications', body);
  if (res.status !== 201)
    throw new Error(`create ${JSON.stringify(body)} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}
async function ok(p: Promise<{ status: number; body: any }>, what: string) {
  const res = await p;
  if (res.status >= 300) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}
const act = (s: Stack, id: string, name: string, body: unknown = {}) =>
  ok(s.api('POST', `/v1/verifications/${id}/actions/${name}`, body), name);
const cancel = (s: Stack, id: string) =>
  ok(s.api('POST', `/v1/verifications/${id}/cancel`, { reason: 'recorded cancel' }), 'cancel');
/** Temporal's own cancel (the Web UI's Cancel button, `temporal workflow cancel`), not our API's. */
const nativeCancel = (s: Stack, id: string) => s.client.workflow.getHandle(id).cancel();
const browserTo = (url: string) => fetch(url, { redirect: 'manual' }).then((r) => r.text());
const token = (v: VerificationState) => new URL((v.nextAction as { url: string }).url).searchParams.get('token')!;

function finwave(
  name: string,
  ending: string | RegExp,
  step: (s: Stack, v: VerificationState) => Promise<unknown>,
): Scenario {
  return {
    name,
    provider: 'finwave',
    ending,
    async run(s, reference) {
      const v = await create(s, { provider: 'finwave', reference });
      await step(s, v);
      return v.id;
    },
  };
}
/** A Fourthline case: created, the identity uploaded with the sandbox's `identity` scenario, then `after`. */
function fourthline(
  name: string,
  ending: string | RegExp,
  identity: string,
  after?: (s: Stack, f: ReturnType<typeof fourthlineFlow>, id: string) => Promise<unknown>,
): Scenario {
  return {
    name,
    provider: 'fourthline',
    ending,
    async run(s, reference) {
      const f = fourthlineFlow(s);
      const v = await f.create(reference);
      await ok(f.identity(v.id, identity), 'identity');
      await after?.(s, f, v.id);
      return v.id;
    },
  };
}
const onboarding = (v: VerificationState) => `/finwave/_sandbox/onboardings/${v.providerReference}`;

async function id360Uploads(s: Stack, id: string) {
  await act(s, id, 'consent', { acceptedCgu: true, acceptedBiometry: true });
  await act(s, id, 'upload-document-page', { page: 0, totalPages: 2, contentType: 'image/png', data: png() });
  await act(s, id, 'upload-document-page', { page: 1, totalPages: 2, contentType: 'image/jpeg', data: jpeg() });
  await act(s, id, 'upload-selfie', { contentType: 'image/jpeg', data: jpeg() });
  await act(s, id, 'finalize');
}

export const SCENARIOS: Scenario[] = [
  finwave('approved', 'completed/approved', (s, v) => control(s, `${onboarding(v)}/finish`, { scenario: 'approved' })),
  finwave('rejected', 'completed/rejected', (s, v) =>
    control(s, `${onboarding(v)}/finish`, { scenario: 'biometry-failed' }),
  ),
  finwave('abandoned', /^(failed|completed)\/abandoned$/, (s, v) => control(s, `${onboarding(v)}/abandon`)),
  finwave('expired', 'expired/expired', (s, v) => control(s, `${onboarding(v)}/timeout`)),
  finwave('cancelled', 'cancelled/-', (s, v) => cancel(s, v.id)),
  finwave('native-cancel', 'cancelled/-', (s, v) => nativeCancel(s, v.id)),

  {
    name: 'uploads-approved',
    provider: 'id360',
    ending: 'completed/approved',
    async run(s, reference) {
      const v = await create(s, { provider: 'id360', reference });
      await id360Uploads(s, v.id);
      return v.id;
    },
  },
  {
    name: 'uploads-rejected',
    provider: 'id360',
    ending: 'completed/rejected',
    async run(s, reference) {
      const v = await create(s, { provider: 'id360', reference });
      await control(s, `/id360/_sandbox/enrollments/${v.providerReference}/scenario`, {
        status: 'KO',
        reason: 'MDL_CHALLENGE_NOT_MET',
      });
      await id360Uploads(s, v.id);
      return v.id;
    },
  },
  {
    name: 'canceled-by-vendor',
    provider: 'id360',
    ending: /^(failed|completed)\/abandoned$/,
    async run(s, reference) {
      const v = await create(s, { provider: 'id360', reference });
      await act(s, v.id, 'consent', { acceptedCgu: true, acceptedBiometry: false });
      await control(s, `/id360/_sandbox/enrollments/${v.providerReference}/cancel`);
      return v.id;
    },
  },
  {
    // The create's answer is lost, the retry makes a second enrollment; the orphan's CANCELED callback is
    // recorded and flagged (workflows/vendor-duplicates.ts), then ours ends the flow.
    name: 'orphan-then-canceled',
    provider: 'id360',
    ending: /^(failed|completed)\/abandoned$/,
    async run(s, reference) {
      await control(s, '/id360/_sandbox/faults', {
        mode: 'dropAfterHandling',
        times: 1,
        path: '/enrollment',
        method: 'POST',
      });
      const { id } = await create(s, { provider: 'id360', reference });
      const v = await s.waitFor(
        id,
        (x) => x.providerReference !== null && x.facts.vendorDuplicatesPossible !== undefined,
      );
      const orphan = s.sandbox.id360.ledger.entries.find(
        (e) => e.kind === 'enrollment-created' && e.key === reference && e.subject !== v.providerReference,
      )!;
      await control(s, `/id360/_sandbox/enrollments/${orphan.subject}/expire`);
      await s.waitFor(id, (x) => x.facts.vendorDuplicates !== undefined);
      await control(s, `/id360/_sandbox/enrollments/${v.providerReference}/cancel`);
      return id;
    },
  },
  {
    name: 'expired',
    provider: 'id360',
    ending: 'expired/expired',
    run: async (s, reference) => (await create(s, { provider: 'id360', reference, options: { deadline: '3s' } })).id,
  },
  {
    name: 'vendor-error',
    provider: 'id360',
    ending: 'failed/error',
    async run(s, reference) {
      await control(s, '/id360/_sandbox/faults', {
        mode: '4xx',
        times: 1,
        path: '/process/',
        code: 'PROCESS_DISABLED',
      });
      return (await create(s, { provider: 'id360', reference })).id;
    },
  },
  {
    name: 'cancelled',
    provider: 'id360',
    ending: 'cancelled/-',
    async run(s, reference) {
      const v = await create(s, { provider: 'id360', reference });
      await act(s, v.id, 'consent', { acceptedCgu: true, acceptedBiometry: true });
      await cancel(s, v.id);
      return v.id;
    },
  },

  {
    name: 'return-approved',
    provider: 'authenteq',
    ending: 'completed/approved',
    async run(s, reference) {
      const v = await create(s, { provider: 'authenteq', reference });
      await browserTo((await control(s, `/authenteq/_sandbox/sessions/${token(v)}/pass`)).body.redirectTo);
      return v.id;
    },
  },
  {
    name: 'return-rejected',
    provider: 'authenteq',
    ending: 'completed/rejected',
    async run(s, reference) {
      const v = await create(s, { provider: 'authenteq', reference });
      await browserTo((await control(s, `/authenteq/_sandbox/sessions/${token(v)}/fail`)).body.redirectTo);
      return v.id;
    },
  },
  {
    name: 'restart-then-approved',
    provider: 'authenteq',
    ending: 'completed/approved',
    async run(s, reference) {
      const v = await create(s, { provider: 'authenteq', reference });
      await browserTo((await control(s, `/authenteq/_sandbox/sessions/${token(v)}/leave`)).body.redirectTo);
      const again = await s.waitFor(v.id, (x) => x.facts.session === 2 && x.nextAction.type === 'redirect');
      await browserTo((await control(s, `/authenteq/_sandbox/sessions/${token(again)}/pass`)).body.redirectTo);
      return v.id;
    },
  },
  {
    name: 'abandoned',
    provider: 'authenteq',
    ending: /^(failed|completed)\/abandoned$/,
    async run(s, reference) {
      const v = await create(s, { provider: 'authenteq', reference, options: { maxRestarts: 0 } });
      await browserTo((await control(s, `/authenteq/_sandbox/sessions/${token(v)}/leave`)).body.redirectTo);
      return v.id;
    },
  },
  {
    name: 'expired',
    provider: 'authenteq',
    ending: 'expired/expired',
    run: async (s, reference) =>
      (await create(s, { provider: 'authenteq', reference, options: { deadline: '2s' } })).id,
  },
  {
    name: 'cancelled',
    provider: 'authenteq',
    ending: 'cancelled/-',
    async run(s, reference) {
      const v = await create(s, { provider: 'authenteq', reference });
      await cancel(s, v.id);
      return v.id;
    },
  },

  ...(['success', 'RequestAlteredInfo'] as const).map((result): Scenario => ({
    name: result === 'success' ? 'return-approved' : 'return-rejected',
    provider: 'namirial',
    ending: result === 'success' ? 'completed/approved' : 'completed/rejected',
    async run(s, reference) {
      const v = await create(s, {
        provider: 'namirial',
        reference,
        applicant: { firstName: 'Giulia', lastName: 'Rossi', email: 'giulia@example.it' },
      });
      await browserTo(
        (await control(s, `/namirial/_sandbox/enrollments/${v.providerReference}/finish`, { result })).body.returnTo,
      );
      return v.id;
    },
  })),
  {
    name: 'expired-then-return',
    provider: 'namirial',
    ending: 'expired/expired',
    async run(s, reference) {
      const v = await create(s, {
        provider: 'namirial',
        reference,
        applicant: { firstName: 'Giulia', lastName: 'Rossi', email: 'giulia@example.it' },
      });
      await control(s, `/namirial/_sandbox/enrollments/${v.providerReference}/expire`);
      // The browser comes back claiming success: the workflow reads Namirial, which says expired.
      await browserTo(`${s.sandbox.namirial.get(v.providerReference!)!.ReturnUrl}?verifidResult=success`);
      return v.id;
    },
  },
  {
    name: 'cancelled',
    provider: 'namirial',
    ending: 'cancelled/-',
    async run(s, reference) {
      const v = await create(s, {
        provider: 'namirial',
        reference,
        applicant: { firstName: 'Giulia', lastName: 'Rossi', email: 'giulia@example.it' },
      });
      await cancel(s, v.id);
      return v.id;
    },
  },

  fourthline('signed-with-resend', 'completed/approved', 'completed', async (s, f, id) => {
    await f.signUpToApproval(id);
    await act(s, id, 'signature-details');
    await act(s, id, 'approve', {});
    await act(s, id, 'resend-passcode');
    await act(s, id, 'confirm', { passcode: await f.passcode(id) });
  }),
  fourthline('kyc-rejected', /^(failed|completed)\/rejected$/, 'risk-500'),
  fourthline('invalid-data', /^(failed|completed)\/rejected$/, 'invalid-data'),
  fourthline('cancelled-at-approval', 'cancelled/-', 'completed', async (s, f, id) => {
    await f.signUpToApproval(id);
    await cancel(s, id);
  }),
  fourthline('native-cancel-awaiting-documents', 'cancelled/-', 'completed', async (s, f, id) => {
    await f.waitPhase(id, 'awaiting_documents');
    await nativeCancel(s, id);
  }),
];

const endingOf = (v: VerificationState) => `${v.status}/${v.outcome ?? '-'}`;

/** Plays one scenario to its end; answers the files to write (name -> history JSON). */
async function record(stack: Stack, client: Client, sc: Scenario): Promise<Map<string, string>> {
  const file = `${sc.provider}-${sc.name}`;
  const t0 = Date.now();
  const id = await sc.run(stack, `corpus-${sc.name}-${crypto.randomBytes(3).toString('hex')}`);
  const final = (await client.workflow.getHandle(id).result()) as VerificationState;
  const matches = typeof sc.ending === 'string' ? endingOf(final) === sc.ending : sc.ending.test(endingOf(final));
  if (!matches) throw new Error(`${file}: ended ${endingOf(final)} (${final.reason}), expected ${String(sc.ending)}`);
  const ids: [string, string][] = [[file, id]];
  if (sc.provider === 'fourthline') {
    const view = (await client.workflow.getHandle(id).describe()).memo?.[FOURTHLINE_CASE_MEMO_KEY] as
      { attempts?: { attempt: number; workflowId: string }[] } | undefined;
    for (const a of view?.attempts ?? []) ids.push([`${file}.attempt-${a.attempt}`, a.workflowId]);
  }
  const out = new Map<string, string>();
  for (const [name, wid] of ids) {
    await client.workflow
      .getHandle(wid)
      .result()
      .catch(() => undefined); // children close with their case
    out.set(`${name}.json`, historyToJSON(await client.workflow.getHandle(wid).fetchHistory()));
  }
  console.log(
    `  ${file}: ${endingOf(final)}${ids.length > 1 ? ` (+${ids.length - 1} child)` : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return out;
}

async function main() {
  const started = Date.now();
  installTestRuntime();
  let server: DevServerHandle | undefined;
  let address = process.env[TEST_ADDRESS_ENV];
  if (!address) {
    server = await startDevServer({ cliPath: await ensureTemporalCli(), port: await freePort(), headless: true });
    address = server.address;
  }
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter: dataConverter(corpusKeyring()) });
  const stack = await startStack({
    address,
    connection,
    client,
    env: { PAYLOAD_KEYS: `${CORPUS_KEY.id}:${CORPUS_KEY.key.toString('base64')}` },
  });
  try {
    console.log(
      `Recording ${SCENARIOS.length} flows on ${address} (ready after ${Math.round((Date.now() - started) / 1000)} s)`,
    );
    // One lane per vendor (a vendor's sandbox faults are global to it), the lanes side by side.
    const lanes = [...new Set(SCENARIOS.map((s) => s.provider))].map(async (provider) => {
      const files = new Map<string, string>();
      for (const sc of SCENARIOS.filter((s) => s.provider === provider))
        for (const [k, v] of await record(stack, client, sc)) files.set(k, v);
      return files;
    });
    const files = new Map((await Promise.all(lanes)).flatMap((m) => [...m]));
    for (const f of fs.readdirSync(OUT)) if (f.endsWith('.json')) fs.rmSync(path.join(OUT, f));
    for (const [name, json] of [...files].sort()) fs.writeFileSync(path.join(OUT, name), `${json}\n`);
    console.log(
      `Wrote ${files.size} histories to ${path.relative(process.cwd(), OUT)}/ in ${Math.round((Date.now() - started) / 1000)} s`,
    );
  } finally {
    await stack.stop();
    await connection.close();
    await server?.stop();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`record-histories failed: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  });
}
