/** The Finwave sandbox against its documentation, over HTTP. */
import { freePort } from '../temporal-dev/dev-server';
import { createSandboxServer, type SandboxServer } from '../sandboxes/server';
import { SANDBOX_CREDENTIALS } from '../sandboxes/credentials';
import { zipEntryNames } from '../sandboxes/framework/zip';

let sandbox: SandboxServer;
let base: string;
const token = SANDBOX_CREDENTIALS.finwave.clientToken;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  sandbox = createSandboxServer({ publicUrl: base, finwave: { webhooks: { maxAttempts: 1, firstRetryMs: 10 } } });
  await sandbox.app.listen({ host: '127.0.0.1', port });
});
afterAll(() => sandbox.close());

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { 'gestok-client-token': token },
) {
  const res = await fetch(`${base}/finwave/management${path}`, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const type = res.headers.get('content-type') ?? '';

  const payload: any = type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer());
  return { status: res.status, type, body: payload };
}

const integration = (customId: string) => ({
  customId,
  webhook: 'http://127.0.0.1:1/hook',
  lang: 'ENG',
  phoneStep: false,
  acceptations: [],
});

test('the client token is required', async () => {
  expect((await call('POST', '/integrations', integration('x'), {})).status).toBe(401);
  expect((await call('POST', '/integrations', integration('x'), { 'gestok-client-token': 'wrong' })).body).toEqual({
    code: 'UNAUTHORIZED',
    message: 'missing or invalid gestok-client-token',
  });
});

test('lang only allows ENG; bad bodies are 400', async () => {
  const res = await call('POST', '/integrations', { ...integration('x'), lang: 'ESP' });
  expect(res.status).toBe(400);
  expect(res.body).toEqual({ code: 'BAD_REQUEST', message: 'lang: only ENG is allowed' });
  expect((await call('POST', '/integrations', { lang: 'ENG' })).status).toBe(400);
});

test('create answers 201 CREATED with a URL; again for a started process: url null and its status', async () => {
  const first = await call('POST', '/integrations', integration('repeat-1'));
  expect(first.status).toBe(201);
  expect(first.body).toEqual({
    onboardingId: expect.any(String),
    url: `${base}/finwave/onboarding/${first.body.onboardingId}`,
    status: 'CREATED',
  });
  const again = await call('POST', '/integrations', integration('repeat-1'));
  expect(again.body).toEqual(first.body);
  await fetch(`${base}/finwave/_sandbox/onboardings/${first.body.onboardingId}/start`, { method: 'POST' });
  const started = await call('POST', '/integrations', integration('repeat-1'));
  expect(started.body).toEqual({ onboardingId: first.body.onboardingId, url: null, status: 'INPROCESS' });
});

test('result is partial before the end, complete after; evidences by GET or POST once FINISHED', async () => {
  const { body } = await call('POST', '/integrations', integration('result-1'));
  const id = body.onboardingId;
  const partial = await call('GET', `/integrations/${id}/result`);
  expect(partial.body).toMatchObject({
    status: 'CREATED',
    onboardingId: id,
    customId: 'result-1',
    processStatus: { score: null, errorEvent: null },
  });
  expect((await call('GET', `/integrations/${id}/evidences`)).status).toBe(409);
  await fetch(`${base}/finwave/_sandbox/onboardings/${id}/finish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"scenario":"approved"}',
  });
  const full = await call('GET', `/integrations/${id}/result`);
  expect(full.body.status).toBe('FINISHED');
  expect(full.body.processStatus.steps).toEqual({ acceptation: true, ocr: true, biometry: true, sms: null });
  expect(full.body.logs.map((l: { code: string }) => l.code)).toEqual(
    expect.arrayContaining(['USER_START_ONBOARDING_PROCESS', 'PROCESS_FINISHED_SUCCESSFULLY']),
  );
  for (const method of ['GET', 'POST']) {
    const zip = await call(method, `/integrations/${id}/evidences`);
    expect(zip.status).toBe(200);
    expect(zip.type).toBe('application/zip');
    expect(zipEntryNames(zip.body as Buffer)).toEqual(expect.arrayContaining(Object.values(full.body.evidences)));
  }
  expect((await call('GET', '/integrations/unknown/result')).status).toBe(404);
});

test('the user cannot finish twice or abandon after finishing', async () => {
  const { body } = await call('POST', '/integrations', integration('twice-1'));
  const act = (a: string) =>
    fetch(`${base}/finwave/_sandbox/onboardings/${body.onboardingId}/${a}`, { method: 'POST' }).then((r) => r.status);
  expect(await act('finish')).toBe(200);
  expect(await act('finish')).toBe(409);
  expect(await act('abandon')).toBe(409);
  expect(await act('fly')).toBe(404);
});
