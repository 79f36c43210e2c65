/**
 * No personal data in the clear: a full flow of each provider with sentinel personal values (a unique
 * name and document number, and email, phone, end-user IP and user agent where they apply), then a
 * search for every sentinel in
 *   - the exported workflow histories (`temporal workflow show --output json`), raw text and every
 *     base64 field decoded, for the verification and every workflow it started;
 *   - the search attributes and memo (describe(), raw and decoded);
 *   - every log line: the SDK runtime (worker, activities, workflows, core), the API, stdout and stderr;
 *   - the API's answers about the verification.
 * Each flow also proves the sentinels went through: they are in the evidence store (the vendor's
 * result) or in the payloads once decrypted, so a leak would be found.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, control, startStack, type Stack } from './helpers/stack';
import { fourthlineFlow } from './helpers/fourthline';
import { ensureTemporalCli } from '../temporal-dev/ensure';
import type { VerificationState } from '../workflows/shared';

// Every log line of this process, captured before anything starts the SDK runtime.
const logs: string[] = [];
Runtime.install({
  logger: new DefaultLogger('DEBUG', (entry: LogEntry) => {
    logs.push(safeJson(entry));
    if (entry.level === 'ERROR') process.stderr.write(`${entry.message}\n`);
  }),
  telemetryOptions: { logging: { filter: { core: 'INFO', other: 'INFO' }, forward: {} } },
});
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    logs.push(String(chunk));
    return write(chunk, ...rest);
  };
}
const apiLogs = new Writable({
  write(chunk, _enc, done) {
    logs.push(String(chunk));
    done();
  },
});

let temporal: TestTemporal;
let stack: Stack;
let cli: string;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({ ...temporal, env: { LOG_LEVEL: 'debug' }, apiLogStream: apiLogs });
  cli = await ensureTemporalCli();
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

interface Sentinels {
  name: string;
  documentNumber: string;
  email: string;
  agent: string;
  ip: string;
}

function sentinels(): Sentinels {
  const hex = crypto.randomBytes(5).toString('hex');
  return {
    name: `Sentinelname${hex}`,
    documentNumber: `DN${hex.toUpperCase()}`,
    email: `sentinel.${hex}@example.com`,
    agent: `SentinelAgent/${hex}`,
    ip: `198.51.100.${crypto.randomInt(1, 254)}`,
  };
}

/** Our API, as the integrator's backend calls it, passing on its end user's IP and user agent. */
async function call(
  s: Sentinels,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      'x-end-user-ip': s.ip,
      'x-end-user-agent': s.agent,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const jpegWith = (text: string) =>
  Buffer.concat([
    Buffer.from('ffd8ffe000104a464946', 'hex'),
    Buffer.from(` ${text} `),
    crypto.randomBytes(32),
    Buffer.from('ffd9', 'hex'),
  ]);
const ref = (name: string) => `pd-${name}-${crypto.randomBytes(4).toString('hex')}`;

/**
 * The exported history of a closed workflow, as an operator would get it; with `codec`, decoded through
 * our codec endpoint, as an operator with a key gets it. (Asynchronous: the endpoint is served by this process.)
 */
async function exportHistory(workflowId: string, codec = false): Promise<string> {
  await temporal.client.workflow.getHandle(workflowId).result();
  const args = [
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--output',
    'json',
    '--address',
    temporal.address,
    '--namespace',
    'default',
  ];
  if (codec) args.push('--codec-endpoint', `${stack.apiUrl}/codec`, '--codec-auth', `Bearer ${API_KEY}`);
  try {
    return (await promisify(execFile)(cli, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (err) {
    // Say what the codec endpoint answered the CLI (statuses only).
    const statuses = logs
      .filter((l) => l.includes('request completed'))
      .map((l) => (JSON.parse(l) as { res: { statusCode: number } }).res.statusCode);
    throw new Error(`${(err as Error).message}\nAPI answers: ${statuses.slice(-20).join(' ')}`);
  }
}

/** The text an observer without keys can read: the JSON itself and every base64 string decoded. */
function readable(jsonText: string): string {
  const parts: string[] = [jsonText];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= 8 && v.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(v))
        parts.push(Buffer.from(v, 'base64').toString('latin1'));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(jsonText));
  return parts.join('\n');
}

function leaks(text: string, values: string[]): string[] {
  const lower = text.toLowerCase();
  return values.filter((v) => lower.includes(v.toLowerCase()));
}

/** Everything about these workflows an operator without the keys can see, checked for the sentinels. */
async function expectNoneInTheClear(workflowIds: string[], values: string[]): Promise<void> {
  for (const id of workflowIds) {
    expect({ id, history: leaks(readable(await exportHistory(id)), values) }).toEqual({ id, history: [] });
    const handle = temporal.client.workflow.getHandle(id);
    const d = await handle.describe();
    const raw = await temporal.client.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId: id },
    });
    const visible =
      safeJson({ memo: d.memo, searchAttributes: d.searchAttributes, typed: d.typedSearchAttributes.getAll() }) +
      readable(safeJson(raw.workflowExecutionInfo));
    expect({ id, describe: leaks(visible, values) }).toEqual({ id, describe: [] });
  }
  expect(leaks(logs.join('\n'), values)).toEqual([]);
}

/** The sentinel must have gone somewhere: else the search above proves nothing. */
async function storedEvidenceText(state: VerificationState): Promise<string> {
  const texts = await Promise.all(
    state.evidence.map(async (e) => (await stack.store.get(e.sha256))?.toString('latin1') ?? ''),
  );
  return texts.join('\n');
}

test('Finwave: phone, name and document number stay out of history, search attributes, memo and logs', async () => {
  const s = sentinels();
  const phone = `7${crypto.randomInt(10_000_000, 99_999_999)}`;
  const created = await call(s, 'POST', '/v1/verifications', {
    provider: 'finwave',
    reference: ref('finwave'),
    applicant: { phoneCountryCode: '+34', phone },
    options: { acceptations: [{ mandatory: true, text: 'I accept the terms' }] },
  });
  expect(created.status).toBe(201);
  const onboardingId = created.body.providerReference as string;
  expect(
    (
      await control(stack, `/finwave/_sandbox/onboardings/${onboardingId}/finish`, {
        scenario: 'approved',
        person: { name: s.name, documentNumber: s.documentNumber },
      })
    ).status,
  ).toBe(200);
  const done = await stack.waitFor(created.body.id, (x) => x.status === 'completed');
  expect(done.outcome).toBe('approved');

  const evidence = await storedEvidenceText(done);
  expect(evidence).toContain(s.name);
  expect(evidence).toContain(s.documentNumber);
  // The phone number is in the workflow input: encrypted, readable with the keys only.
  expect(readable(await exportHistory(done.id, true))).toContain(phone);
  await expectNoneInTheClear([done.id], [s.name, s.documentNumber, phone, s.agent, s.ip]);
  expect(leaks(JSON.stringify(done), [s.name, s.documentNumber, phone])).toEqual([]);
});

test('Fourthline: identity data, document image, mobile number and passcode stay out of every workflow in the clear', async () => {
  const s = sentinels();
  const f = fourthlineFlow(stack);
  const created = await call(s, 'POST', '/v1/verifications', { provider: 'fourthline', reference: ref('fourthline') });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await stack.waitFor(id, (x) => x.nextAction.type === 'action');
  const identity = await call(s, 'POST', `/v1/verifications/${id}/actions/identity`, {
    person: { firstName: 'Marie', lastName: s.name, birthDate: '1990-04-01' },
    address: { street: '1 rue de la Paix', postalCode: '75002', city: 'Paris', countryCode: 'FRA' },
    emailAndPhone: { email: s.email, phone: f.mobile },
    files: [
      {
        type: 'id_document_front',
        contentType: 'image/jpeg',
        contentBase64: jpegWith(s.documentNumber).toString('base64'),
      },
    ],
  });
  expect(identity.status).toBe(200);
  await f.signUpToApproval(id);
  expect((await f.approveAndConfirm(id)).status).toBe(200);
  const done = await stack.waitFor(id, (x) => x.status === 'completed', 30_000);
  expect(done.outcome).toBe('approved');

  const evidence = await storedEvidenceText(done);
  expect(evidence).toContain(s.name);
  expect(evidence).toContain(s.documentNumber);
  const signature = (await stack.api('GET', `/v1/verifications/${id}/signature`)).body;
  const ids = [id, ...signature.attempts.map((a: { workflowId: string }) => a.workflowId)];
  await expectNoneInTheClear(ids, [s.name, s.documentNumber, s.email, f.mobile, f.lastPasscode, s.agent, s.ip]);
});

test('ID360: applicant, compared values and document stay out of history; the audit trail holds the end user encrypted', async () => {
  const s = sentinels();
  const created = await call(s, 'POST', '/v1/verifications', {
    provider: 'id360',
    reference: ref('id360'),
    applicant: { lastName: s.name, firstName: 'Jean', email: s.email },
    compare: { name: s.name },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  // What the user's document says, in the sandbox: the sentinel name and document number.
  expect(
    (
      await control(stack, `/id360/_sandbox/enrollments/${created.body.providerReference}/scenario`, {
        status: 'OK',
        document: { name: s.name, document_number: s.documentNumber },
      })
    ).status,
  ).toBe(200);
  expect(
    (await call(s, 'POST', `/v1/verifications/${id}/actions/consent`, { acceptedCgu: true, acceptedBiometry: false }))
      .status,
  ).toBe(200);
  const page = {
    page: 0,
    totalPages: 1,
    contentType: 'image/jpeg',
    data: jpegWith(s.documentNumber).toString('base64'),
  };
  expect((await call(s, 'POST', `/v1/verifications/${id}/actions/upload-document-page`, page)).status).toBe(200);
  expect((await call(s, 'POST', `/v1/verifications/${id}/actions/finalize`, {})).status).toBe(200);
  const done = await stack.waitFor(id, (x) => x.status === 'completed');
  expect(done).toMatchObject({ outcome: 'approved', facts: { 'check.data_comparison.name': 'OK' } });

  const evidence = await storedEvidenceText(done);
  expect(evidence).toContain(s.documentNumber);
  const decoded = readable(await exportHistory(id, true));
  expect(decoded).toContain(s.name); // the applicant and the compared value, in the input
  expect(decoded).toContain(s.agent); // the audit trail, in the state and the audit signals
  // The audit trail names the end user for whoever may read it through the API.
  const audit = (await stack.api('GET', `/v1/verifications/${id}/audit`)).body;
  expect(audit.entries.find((e: { event: string }) => e.event === 'action consent').actor).toEqual({
    keyId: 'tests',
    endUserIp: s.ip,
    endUserAgent: s.agent,
  });
  await expectNoneInTheClear([id], [s.name, s.documentNumber, s.email, s.agent, s.ip]);
});

test('Authenteq: the result with the name and document number is evidence only', async () => {
  const s = sentinels();
  const created = await call(s, 'POST', '/v1/verifications', { provider: 'authenteq', reference: ref('authenteq') });
  expect(created.status).toBe(201);
  const token = new URL(created.body.nextAction.url).searchParams.get('token')!;
  const passed = await control(stack, `/authenteq/_sandbox/sessions/${token}/pass`, {
    person: { surname: s.name, givenNames: 'Jane', documentNumber: s.documentNumber },
  });
  expect(passed.status).toBe(200);
  expect((await fetch(passed.body.redirectTo, { redirect: 'manual' })).status).toBe(200);
  const done = await stack.waitFor(created.body.id, (x) => x.status === 'completed');
  expect(done.outcome).toBe('approved');

  const evidence = await storedEvidenceText(done);
  expect(evidence).toContain(s.name);
  expect(evidence).toContain(s.documentNumber);
  await expectNoneInTheClear([done.id], [s.name, s.documentNumber, s.agent, s.ip]);
});

test('Namirial: the applicant in the input is ciphertext in history; the codec endpoint decodes it for the CLI', async () => {
  const s = sentinels();
  const created = await call(s, 'POST', '/v1/verifications', {
    provider: 'namirial',
    reference: ref('namirial'),
    applicant: { firstName: 'Giulia', lastName: s.name, email: s.email },
  });
  expect(created.status).toBe(201);
  const finished = await control(stack, `/namirial/_sandbox/enrollments/${created.body.providerReference}/finish`, {
    result: 'success',
    documentNumber: s.documentNumber,
  });
  expect(finished.status).toBe(200);
  await fetch(finished.body.returnTo, { redirect: 'manual' });
  const done = await stack.waitFor(created.body.id, (x) => x.status === 'completed');
  expect(done.outcome).toBe('approved');

  const evidence = await storedEvidenceText(done);
  expect(evidence).toContain(s.name);
  expect(evidence).toContain(s.documentNumber);
  // The operator with a key reads the input through the codec endpoint (here with the CLI).
  const decoded = readable(await exportHistory(done.id, true));
  expect(decoded).toContain(s.name);
  expect(decoded).toContain(s.email);
  await expectNoneInTheClear([done.id], [s.name, s.documentNumber, s.email, s.agent, s.ip]);
});

test('the checks can fail: an unencrypted payload or a log line with a sentinel is found', () => {
  const s = sentinels();
  const plain = JSON.stringify({
    events: [
      {
        input: {
          payloads: [
            {
              metadata: { encoding: 'anNvbi9wbGFpbg==' },
              data: Buffer.from(JSON.stringify({ lastName: s.name })).toString('base64'),
            },
          ],
        },
      },
    ],
  });
  expect(leaks(readable(plain), [s.name])).toEqual([s.name]);
});

function safeJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') return x.toString();
    if (x instanceof Error) return { name: x.name, message: x.message, stack: x.stack, cause: x.cause };
    if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
    return x;
  });
}
