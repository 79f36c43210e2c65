/**
 * The hardened edge, on the real server: no 5xx for any input (every route of the OpenAPI, with and
 * without credentials, with hostile bodies and parameters), every 4xx in our error shape and naming the
 * field, parsers of untrusted headers failing closed, idempotency conflicts, cancel without a body,
 * uploads checked before storing, evidence served inert.
 */
import crypto from 'node:crypto';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, startStack, type Stack } from './helpers/stack';
import { servedContentType } from '../client/personal-data';

let temporal: TestTemporal;
let stack: Stack;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  // OAuth mode, so that the token endpoint is live.
  stack = await startStack({ ...temporal, env: { FOURTHLINE_WEBHOOK_AUTH: 'oauth' } });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

const ref = (name: string) => `${name}-${crypto.randomBytes(4).toString('hex')}`;

async function raw(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: init.headers,
    body: init.body,
    redirect: 'manual',
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function expectErrorShape(r: { status: number; json: any; text: string }, where: string) {
  if (!(r.json && typeof r.json.error?.code === 'string' && typeof r.json.error?.message === 'string')) {
    throw new Error(`${where}: ${r.status} without our error shape: ${r.text.slice(0, 200)}`);
  }
}

const isHtmlRoute = (path: string) => path.startsWith('/return/') || path.startsWith('/go/');

describe('every route of the OpenAPI', () => {
  let doc: any;
  beforeAll(async () => {
    doc = (await raw('GET', '/openapi.json')).json;
  });

  test('declares its error responses in our error shape (what the error handler sends)', () => {
    const wrong: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        operations++;
        for (const [status, response] of Object.entries<any>(op.responses ?? {})) {
          if (Number(status) < 400) continue;
          const schema = response.content?.['application/json']?.schema;
          const error = schema?.properties?.error;
          if (!error?.properties?.code || !error?.properties?.message)
            wrong.push(`${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
    expect(operations).toBeGreaterThan(25);
    expect(wrong).toEqual([]);
  });

  test('answers no 5xx, and every 4xx in our error shape, for hostile requests with and without a key', async () => {
    const long = 'x'.repeat(1200);
    const tries: string[] = [];
    const problems: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of Object.keys(item)) {
        const variants: { url: string; headers: Record<string, string>; body?: string }[] = [];
        const fill = (v: string) => path.replace(/\{[^}]+\}/g, v);
        const json = { 'content-type': 'application/json' };
        const auth = { authorization: `Bearer ${API_KEY}` };
        variants.push({ url: fill('finwave:nope'), headers: {} });
        variants.push({ url: fill('finwave:nope'), headers: { ...auth } });
        variants.push({ url: fill(`finwave:${ref('missing')}`), headers: { ...auth, ...json }, body: '{}' });
        variants.push({ url: fill('fourthline:nope'), headers: { ...auth, ...json }, body: '{"a":' });
        variants.push({ url: fill('id360:nope'), headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' });
        variants.push({ url: fill('%E0%A4%A'), headers: { ...auth } });
        variants.push({ url: fill(long), headers: { ...auth, ...json }, body: '[]' });
        variants.push({ url: `${fill('x')}?state=${'s'.repeat(3001)}&code=%ZZ`, headers: { ...auth } });
        variants.push({
          url: fill('authenteq:x'),
          headers: { authorization: 'Basic JTpa' /* "%:Z" */, ...json },
          body: 'null',
        });
        for (const v of variants) {
          if (method === 'get' && v.body !== undefined) delete v.body;
          const r = await raw(method.toUpperCase(), v.url, { headers: v.headers, body: v.body });
          const where = `${method.toUpperCase()} ${v.url.slice(0, 80)} ${JSON.stringify(v.headers).slice(0, 60)}`;
          tries.push(where);
          if (r.status >= 500) problems.push(`${where} -> ${r.status} ${r.text.slice(0, 120)}`);
          else if (r.status >= 400 && !isHtmlRoute(path)) {
            try {
              expectErrorShape(r, where);
            } catch (err) {
              problems.push((err as Error).message);
            }
          }
        }
      }
    }
    expect(tries.length).toBeGreaterThan(200);
    expect(problems).toEqual([]);
  });
});

describe('error messages and framework refusals', () => {
  test('a 400 names the field in plain words', async () => {
    const noProvider = await stack.api('POST', '/v1/verifications', { reference: 'a' });
    expect(noProvider.status).toBe(400);
    expect(noProvider.body.error.message).toBe(
      'body.provider: must be one of "fourthline", "finwave", "authenteq", "namirial", "id360"',
    );
    const missing = await stack.api('POST', '/v1/verifications', { provider: 'finwave' });
    expect(missing.body.error.message).toBe('body.reference: is required');
    const wrongType = await stack.api('POST', '/v1/verifications', {
      provider: 'authenteq',
      reference: 'a',
      options: { multiDocument: 3 },
    });
    expect(wrongType.body.error.message).toBe('body.options.multiDocument: must be a boolean');
    const unknown = await stack.api('POST', '/v1/verifications', {
      provider: 'finwave',
      reference: 'a',
      colour: 'red',
    });
    expect(unknown.body.error.message).toBe('body: has unknown field "colour"');
    const notObject = await stack.api('POST', '/v1/verifications', undefined, { raw: '"text"' });
    expect(notObject.body.error.message).toBe('body: must be a JSON object');
    for (const r of [noProvider, missing, wrongType, unknown, notObject])
      expect(r.body.error.code).toBe('invalid_request');
  });

  test('a 3,001-character return state answers 414 in our error shape; a malformed URL 400', async () => {
    const r = await raw('GET', `/return/namirial/${'a'.repeat(3001)}`);
    expect(r.status).toBe(414);
    expect(r.json).toEqual({ error: { code: 'uri_too_long', message: 'a path parameter is too long' } });
    const bad = await raw('GET', '/v1/verifications/%E0%A4%A', { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(bad.status).toBe(400);
    expectErrorShape(bad, 'bad url');
  });

  test('Fourthline webhook HTTP Basic credentials with a malformed % escape: 401, nothing else', async () => {
    const basic = Buffer.from('user%:pass%ZZ').toString('base64');
    const r = await raw('POST', '/webhooks/fourthline/cases/abc', {
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verificationId: 'abc', status: 'new' }),
    });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('unauthorized');
    const token = await raw('POST', '/webhooks/fourthline/oauth/token', {
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(401);
    expect(token.json.error.code).toBe('invalid_client');
  });

  test('OAuth token endpoint: no body, text/plain, a form without grant_type or with another grant: 400 in our shape', async () => {
    const cases = [
      { headers: {} as Record<string, string>, body: undefined as string | undefined, code: 'invalid_request' },
      { headers: { 'content-type': 'text/plain' }, body: 'grant_type=client_credentials', code: 'invalid_request' },
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_id=x',
        code: 'invalid_request',
      },
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password',
        code: 'unsupported_grant_type',
      },
      { headers: { 'content-type': 'application/json' }, body: '', code: 'invalid_request' },
    ];
    for (const c of cases) {
      const r = await raw('POST', '/webhooks/fourthline/oauth/token', { headers: c.headers, body: c.body });
      expect({ status: r.status, code: r.json?.error?.code }).toEqual({ status: 400, code: c.code });
    }
    const { clientId, clientSecret } = stack.config.vendors.fourthline.webhookAuth as {
      clientId: string;
      clientSecret: string;
    };
    const ok = await raw('POST', '/webhooks/fourthline/oauth/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }).toString(),
    });
    expect(ok.status).toBe(200);
    expect(ok.json.token_type).toBe('Bearer');
  });

  test('the Finwave webhook authenticates before it validates the body', async () => {
    const r = await raw('POST', '/webhooks/finwave/finwave:x/not-a-token', {
      headers: { 'content-type': 'application/json' },
      body: '{"nonsense":true}',
    });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('unauthorized');
  });
});

describe('verifications', () => {
  test('the same reference with a different body answers 409 idempotency_conflict; the same body 200', async () => {
    const reference = ref('idem');
    const body = { provider: 'finwave', reference, options: { minScore: 50 } };
    const first = await stack.api('POST', '/v1/verifications', body);
    expect(first.status).toBe(201);
    // Same request, keys in another order and a default spelled out: the same.
    const again = await stack.api('POST', '/v1/verifications', {
      options: { phoneStep: false, minScore: 50 },
      reference,
      provider: 'finwave',
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await stack.api('POST', '/v1/verifications', { ...body, options: { minScore: 60 } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
  });

  test('cancel without a body, as the README writes it (no content-type), and with an empty JSON body', async () => {
    for (const headers of [{}, { 'content-type': 'application/json' }] as Record<string, string>[]) {
      const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('cancel') });
      const r = await raw('POST', `/v1/verifications/${created.body.id}/cancel`, {
        headers: { authorization: `Bearer ${API_KEY}`, ...headers },
      });
      expect({ status: r.status, body: r.json.status ?? r.json.error }).toEqual({ status: 200, body: 'cancelled' });
    }
  });

  test('uploads to a verification that takes none now store nothing', async () => {
    const before = (await stack.store.claims()).length;
    const data = Buffer.from('not stored').toString('base64');
    // Unknown verification.
    const unknown = await stack.api('POST', `/v1/verifications/id360:${ref('none')}/actions/upload-selfie`, {
      contentType: 'image/jpeg',
      data,
    });
    expect(unknown.status).toBe(404);
    // A known one before its consent.
    const created = await stack.api('POST', '/v1/verifications', { provider: 'id360', reference: ref('upload') });
    expect(created.status).toBe(201);
    const early = await stack.api('POST', `/v1/verifications/${created.body.id}/actions/upload-document-page`, {
      page: 0,
      totalPages: 1,
      contentType: 'image/jpeg',
      data,
    });
    expect(early.status).toBe(409);
    // Fourthline: documents before any signature attempt.
    const f = await stack.api('POST', '/v1/verifications', { provider: 'fourthline', reference: ref('upload') });
    const docs = await stack.api('POST', `/v1/verifications/${f.body.id}/actions/documents`, {
      documents: [{ name: 'c.pdf', contentBase64: 'JVBERi0xLjQK' }],
    });
    expect(docs.status).toBe(409);
    const selfie = await stack.api('POST', `/v1/verifications/fourthline:${ref('none')}/actions/selfie`, {
      contentType: 'image/jpeg',
      contentBase64: data,
    });
    expect(selfie.status).toBe(404);
    expect((await stack.store.claims()).length).toBe(before);
  });
});

test('evidence is served only with an allow-listed content type', () => {
  expect(servedContentType('application/pdf')).toBe('application/pdf');
  expect(servedContentType('IMAGE/JPEG; charset=x')).toBe('image/jpeg');
  expect(servedContentType('text/html')).toBe('application/octet-stream');
  expect(servedContentType('image/svg+xml')).toBe('application/octet-stream');
});
