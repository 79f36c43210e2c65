/**
 * Scripted end users: each scenario starts a verification through our API (as the integrator's backend)
 * and plays the user's steps through the vendor's sandbox controls, the way a person would click
 * through the sandbox pages (sandboxes/README.md). Used by `npm run demo` (sandboxes/demo.ts) and by
 * test/normalized-model.test.ts, which checks every ending against docs/api.md#what-the-api-answers.
 *
 * Only public HTTP: the API (bearer key) and the sandbox's control surface. No internal imports, so it
 * runs against any stack (`npm start`, or one on free ports in a test).
 */
import crypto from 'node:crypto';

export interface PlayTarget {
  /** Our API, e.g. http://localhost:8080 */
  api: string;
  /** The vendor sandboxes, e.g. http://localhost:8090 */
  sandbox: string;
  /** An API key of the API. */
  key: string;
  /**
   * How every request is sent (default: the global fetch); e.g. one that retries through 503s and dropped
   * connections, for a run that kills the worker and restarts Temporal.
   */
  fetch?: typeof fetch;
  /** How long an action waits for its turn (409: the vendor is processing). Default 30 s. */
  stepTimeoutMs?: number;
}

export type Provider = 'finwave' | 'fourthline' | 'id360' | 'authenteq' | 'namirial';
export type Ending = {
  status: 'completed' | 'failed' | 'expired' | 'cancelled';
  outcome: 'approved' | 'rejected' | 'abandoned' | 'expired' | 'error' | null;
};

export interface Scenario {
  provider: Provider;
  /** Short name, e.g. `approved`, `low-score`. */
  name: string;
  /** The vendor's happy path (the demo plays these and one unhappy path per vendor). */
  happy?: boolean;
  /** Played by `npm run demo` (every happy path plus one unhappy path per vendor). */
  demo?: boolean;
  expected: Ending;
  /** Starts the verification and plays the user; answers the verification id. */
  play(t: PlayTarget, reference: string, step: (line: string) => void): Promise<string>;
}

export interface VerificationView {
  id: string;
  status: string;
  outcome: string | null;
  reason: string | null;
  providerStatus: string | null;
  providerReference: string | null;
  nextAction: { type: string; url?: string; action?: string; reason?: string };
}

const TERMINAL = ['completed', 'failed', 'expired', 'cancelled'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real 1x1 PNG: what the ID360 sandbox sniffs as an image (its uploads must be jpg / png / pdf / heic). */
export const TINY_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const TINY_PDF_BASE64 = Buffer.from('%PDF-1.4\n% demo contract\n%%EOF\n').toString('base64');

async function call(
  t: PlayTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await (t.fetch ?? fetch)(`${t.api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${t.key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function control(t: PlayTarget, path: string, body: unknown = {}): Promise<unknown> {
  const res = await (t.fetch ?? fetch)(`${t.sandbox}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`sandbox ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The browser following a redirect back to our API (return receivers answer a page or a redirect). */
async function browserTo(t: PlayTarget, url: string): Promise<number> {
  return (await (t.fetch ?? fetch)(url, { redirect: 'manual' })).status;
}

async function create(
  t: PlayTarget,
  body: Record<string, unknown>,
  step: (line: string) => void,
): Promise<VerificationView> {
  const res = await call(t, 'POST', '/v1/verifications', body);
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
  let v = res.body as VerificationView;
  // No vendor session yet (nextAction wait: no worker took the flow in time, or the vendor is slow): ask again.
  const deadline = Date.now() + (t.stepTimeoutMs ?? 30_000);
  while (v.nextAction?.type === 'wait' && !TERMINAL.includes(v.status) && Date.now() < deadline) {
    await sleep(300);
    v = await read(t, v.id);
  }
  step(`created ${v.id}: ${v.status}, next ${describeNext(v)}`);
  return v;
}

export function describeNext(v: VerificationView): string {
  const n = v.nextAction;
  if (!n) return 'unknown';
  if (n.type === 'action') return `action ${n.action}`;
  if (n.type === 'redirect') return `redirect the user to ${n.url}`;
  return n.type;
}

export async function read(t: PlayTarget, id: string): Promise<VerificationView> {
  const res = await call(t, 'GET', `/v1/verifications/${encodeURIComponent(id)}`);
  if (res.status !== 200) throw new Error(`GET ${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as VerificationView;
}

/** Polls until the verification has ended (or `timeoutMs` passed). */
export async function waitForEnd(t: PlayTarget, id: string, timeoutMs = 60_000): Promise<VerificationView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read(t, id);
    if (TERMINAL.includes(v.status) || Date.now() > deadline) return v;
    await sleep(250);
  }
}

/**
 * Runs an action on the verification; retries while it is out of turn (409) as the vendor processes.
 * `later`: the actions that come after this one. When an earlier attempt's answer was lost (a 503 or a
 * dropped connection the caller retried) the action may have been applied: a 409 while the flow already
 * asks for a later action, or has ended, means it was.
 */
async function act(
  t: PlayTarget,
  id: string,
  action: string,
  body: unknown,
  step: (line: string) => void,
  later: string[] = [],
  timeoutMs = t.stepTimeoutMs ?? 30_000,
): Promise<VerificationView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(t, 'POST', `/v1/verifications/${encodeURIComponent(id)}/actions/${action}`, body);
    if (res.status === 409) {
      const v = await read(t, id);
      if (TERMINAL.includes(v.status) || (v.nextAction?.action !== undefined && later.includes(v.nextAction.action))) {
        step(`${action}: already applied; now ${v.status}, next ${describeNext(v)}`);
        return v;
      }
    }
    if (res.status === 200) {
      // Fourthline's actions answer the signature attempt, the others the verification: read it, once
      // nextAction has moved on from this action (the vendor may answer a moment later).
      let v = await read(t, id);
      for (let i = 0; i < 20 && v.nextAction?.action === action && !TERMINAL.includes(v.status); i++) {
        await sleep(150);
        v = await read(t, id);
      }
      step(`${action}: done; now ${v.status}, next ${describeNext(v)}`);
      return v;
    }
    if (res.status !== 409 || Date.now() > deadline)
      throw new Error(`${action} answered ${res.status}: ${JSON.stringify(res.body)}`);
    await sleep(300);
  }
}

const finwave = (
  name: string,
  expected: Ending,
  user: 'finish' | 'abandon' | 'timeout',
  extra: Partial<Scenario> = {},
): Scenario => ({
  provider: 'finwave',
  name,
  expected,
  ...extra,
  async play(t, reference, step) {
    const v = await create(
      t,
      { provider: 'finwave', reference, options: { acceptations: [{ mandatory: true, text: 'I accept the terms' }] } },
      step,
    );
    const onboardingId = new URL(v.nextAction.url!).pathname.split('/').pop()!;
    await control(t, `/finwave/_sandbox/onboardings/${onboardingId}/start`);
    step('the user starts the onboarding');
    await control(
      t,
      `/finwave/_sandbox/onboardings/${onboardingId}/${user}`,
      user === 'finish' ? { scenario: name } : {},
    );
    step(
      user === 'finish'
        ? `the user finishes: Finwave scenario ${name}`
        : `the user ${user === 'abandon' ? 'leaves' : 'runs out of time'}`,
    );
    return v.id;
  },
});

const authenteq = (name: string, expected: Ending, user: 'pass' | 'fail', extra: Partial<Scenario> = {}): Scenario => ({
  provider: 'authenteq',
  name,
  expected,
  ...extra,
  async play(t, reference, step) {
    const v = await create(t, { provider: 'authenteq', reference }, step);
    const token = new URL(v.nextAction.url!).searchParams.get('token')!;
    const { redirectTo } = (await control(t, `/authenteq/_sandbox/sessions/${token}/${user}`)) as {
      redirectTo: string;
    };
    step(`the user ${user === 'pass' ? 'passes' : 'fails'} at Authenteq; the browser comes back`);
    step(`return receiver: ${await browserTo(t, redirectTo)}`);
    return v.id;
  },
});

const namirial = (name: string, expected: Ending, result: string, extra: Partial<Scenario> = {}): Scenario => ({
  provider: 'namirial',
  name,
  expected,
  ...extra,
  async play(t, reference, step) {
    const v = await create(
      t,
      { provider: 'namirial', reference, applicant: { firstName: 'Giulia', lastName: 'Rossi', email: 'g@example.it' } },
      step,
    );
    await control(t, `/namirial/_sandbox/enrollments/${v.providerReference}/start`);
    step('the user opens the enrollment page');
    const { returnTo } = (await control(t, `/namirial/_sandbox/enrollments/${v.providerReference}/finish`, {
      result,
    })) as { returnTo: string };
    step(`the enrollment ends at Namirial: ${result}; the browser comes back`);
    step(`return receiver: ${await browserTo(t, returnTo)}`);
    return v.id;
  },
});

const id360 = (
  name: string,
  expected: Ending,
  how: { verdict?: 'OK' | 'KO' | 'FAILED'; user?: 'cancel' | 'expire' },
  extra: Partial<Scenario> = {},
): Scenario => ({
  provider: 'id360',
  name,
  expected,
  ...extra,
  async play(t, reference, step) {
    const v = await create(t, { provider: 'id360', reference }, step);
    if (how.user) {
      await control(t, `/id360/_sandbox/enrollments/${v.providerReference}/${how.user}`);
      step(how.user === 'cancel' ? 'the user cancels at ID360' : "ID360's clock runs out");
      return v.id;
    }
    if (how.verdict !== 'OK') {
      await control(t, `/id360/_sandbox/enrollments/${v.providerReference}/scenario`, { status: how.verdict });
      step(`sandbox: the verdict at finalize will be ${how.verdict}`);
    }
    await act(t, v.id, 'consent', { acceptedCgu: true, acceptedBiometry: true }, step, [
      'upload-document-page',
      'upload-selfie',
      'finalize',
    ]);
    await act(
      t,
      v.id,
      'upload-document-page',
      { page: 0, totalPages: 1, contentType: 'image/png', data: TINY_PNG_BASE64 },
      step,
      ['upload-selfie', 'finalize'],
    );
    await act(t, v.id, 'upload-selfie', { contentType: 'image/png', data: TINY_PNG_BASE64 }, step, ['finalize']);
    await act(t, v.id, 'finalize', {}, step);
    return v.id;
  },
});

/** The Fourthline actions in the order the user takes them. */
const FOURTHLINE_STEPS = ['identity', 'documents', 'mobile-number', 'signature-details', 'approve', 'confirm'];

const fourthline = (name: string, expected: Ending, scenario: string, extra: Partial<Scenario> = {}): Scenario => ({
  provider: 'fourthline',
  name,
  expected,
  ...extra,
  async play(t, reference, step) {
    const v = await create(t, { provider: 'fourthline', reference }, step);
    await act(
      t,
      v.id,
      'identity',
      {
        person: { firstName: 'Marie', lastName: 'Dupont', birthDate: '1990-04-01' },
        address: { street: '1 rue de la Paix', postalCode: '75002', city: 'Paris', countryCode: 'FRA' },
        emailAndPhone: { email: `marie+${scenario}@example.com` },
        files: [{ type: 'id_document_front', contentType: 'image/png', contentBase64: TINY_PNG_BASE64 }],
      },
      step,
      FOURTHLINE_STEPS.slice(1),
    );
    if (scenario !== 'completed') return v.id;
    await act(
      t,
      v.id,
      'documents',
      { documents: [{ name: 'contract.pdf', contentBase64: TINY_PDF_BASE64 }] },
      step,
      FOURTHLINE_STEPS.slice(2),
    );
    await act(
      t,
      v.id,
      'mobile-number',
      { mobileNumber: `+336${crypto.randomInt(10_000_000, 99_999_999)}` },
      step,
      FOURTHLINE_STEPS.slice(3),
    );
    await act(t, v.id, 'signature-details', undefined, step, FOURTHLINE_STEPS.slice(4));
    await act(t, v.id, 'approve', {}, step, FOURTHLINE_STEPS.slice(5));
    const sig = (await call(t, 'GET', `/v1/verifications/${v.id}/signature`)).body as {
      current: { signatureId: string };
    };
    const sms = (await (
      await (t.fetch ?? fetch)(`${t.sandbox}/fourthline/_sandbox/signatures/${sig.current.signatureId}/sms`)
    ).json()) as { passcode: string };
    step('the user reads the passcode from the SMS');
    await act(t, v.id, 'confirm', { passcode: sms.passcode }, step);
    return v.id;
  },
});

/** Your backend cancels before the user has finished: the same for every vendor. */
const cancel = (provider: Provider, body: Record<string, unknown> = {}): Scenario => ({
  provider,
  name: 'cancel',
  expected: { status: 'cancelled', outcome: null },
  async play(t, reference, step) {
    const v = await create(t, { provider, reference, ...body }, step);
    const c = await call(t, 'POST', `/v1/verifications/${encodeURIComponent(v.id)}/cancel`);
    // A 409 after a retried cancel whose first answer was lost: it was cancelled then.
    const already = c.status === 409 && (await read(t, v.id)).status === 'cancelled';
    if (c.status !== 200 && !already) throw new Error(`cancel answered ${c.status}: ${JSON.stringify(c.body)}`);
    const status = already ? 'cancelled (by the lost first attempt)' : (c.body as VerificationView).status;
    step(`your backend cancels: ${status}`);
    return v.id;
  },
});

const ok = (outcome: Ending['outcome'], status: Ending['status'] = 'completed'): Ending => ({ status, outcome });

/** Every ending of every vendor that its sandbox can play in seconds. */
export const SCENARIOS: Scenario[] = [
  finwave('approved', ok('approved'), 'finish', { happy: true, demo: true }),
  finwave('low-score', ok('rejected'), 'finish', { demo: true }),
  finwave('ocr-failed', ok('rejected'), 'finish'),
  finwave('abandon', ok('abandoned', 'failed'), 'abandon'),
  finwave('timeout', ok('expired', 'expired'), 'timeout'),
  cancel('finwave'),
  fourthline('signed', ok('approved'), 'completed', { happy: true, demo: true }),
  fourthline('invalid-data', ok('rejected'), 'invalid-data', { demo: true }),
  fourthline('risk-500', ok('rejected'), 'risk-500'),
  id360('verdict-ok', ok('approved'), { verdict: 'OK' }, { happy: true, demo: true }),
  id360('verdict-ko', ok('rejected'), { verdict: 'KO' }, { demo: true }),
  id360('verdict-failed', ok('error', 'failed'), { verdict: 'FAILED' }),
  id360('user-cancels', ok('abandoned', 'failed'), { user: 'cancel' }),
  id360('erl-timeout', ok('expired', 'expired'), { user: 'expire' }),
  cancel('id360'),
  cancel('fourthline'),
  cancel('authenteq'),
  authenteq('passed', ok('approved'), 'pass', { happy: true, demo: true }),
  authenteq('failed', ok('rejected'), 'fail', { demo: true }),
  namirial('success', ok('approved'), 'success', { happy: true, demo: true }),
  namirial('invalid-info', ok('rejected'), 'RequestInvalidInfo', { demo: true }),
  namirial('request-expired', ok('expired', 'expired'), 'RequestIsExpired'),
  namirial('unexpected-failure', ok('error', 'failed'), 'UnexpectedFailure'),
  cancel('namirial', { applicant: { firstName: 'Giulia', lastName: 'Rossi', email: 'g@example.it' } }),
];

/** A reference no earlier run used (references are idempotency keys). */
export function freshReference(s: Scenario, runId: string): string {
  return `demo-${runId}-${s.name}`;
}
