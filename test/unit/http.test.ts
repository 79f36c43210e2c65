/** Vendor HTTP failures mapped onto Temporal's retry model, against a real local HTTP server. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { callVendor, httpTimeoutFor, parseRetryAfter } from '../../activities/http';

let server: http.Server;
let base: string;
let next: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '{}' };

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
    res.end(next.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const call = () =>
  callVendor({
    vendor: 'Acme',
    operation: 'getThing',
    method: 'GET',
    url: `${base}/thing`,
    schema: z.object({ id: z.string(), score: z.number() }),
    errorCode: (b) => (b as { code?: string }).code,
  });

async function failure(): Promise<ApplicationFailure> {
  try {
    await call();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

test('a valid body is parsed', async () => {
  next = { status: 200, body: '{"id":"a","score":3}' };
  expect((await call()).body).toEqual({ id: 'a', score: 3 });
});

test('5xx is retryable', async () => {
  next = { status: 502, body: '{}' };
  const f = await failure();
  expect(f.type).toBe('VendorUnavailable');
  expect(f.nonRetryable).toBe(false);
  expect(f.message).toBe('Acme getThing answered 502');
});

test('429 is retryable after Retry-After', async () => {
  next = { status: 429, body: '{}', headers: { 'retry-after': '7' } };
  const f = await failure();
  expect(f.type).toBe('VendorRateLimited');
  expect(f.nonRetryable).toBe(false);
  expect(f.nextRetryDelay).toBe(7000);
});

test('4xx is non-retryable with the vendor code, never the body text', async () => {
  next = { status: 422, body: '{"code":"WINDOW_EXPIRED","message":"Jean Dupont, born 1980-01-01, is late"}' };
  const f = await failure();
  expect(f.type).toBe('VendorRequestRejected');
  expect(f.nonRetryable).toBe(true);
  expect(f.message).toBe('Acme getThing answered 422 (WINDOW_EXPIRED)');
  expect(JSON.stringify(f.details)).not.toContain('Dupont');
});

test('a free-text error code is not copied (it could hold personal data)', async () => {
  next = { status: 400, body: '{"code":"Name Jean Dupont is invalid"}' };
  expect((await failure()).message).toBe('Acme getThing answered 400');
});

test('a body that does not match names the field and is non-retryable', async () => {
  next = { status: 200, body: '{"id":"a","score":"high"}' };
  const f = await failure();
  expect(f.type).toBe('VendorResponseInvalid');
  expect(f.nonRetryable).toBe(true);
  expect(f.message).toMatch(/^Acme getThing: unexpected response, field "score": /);
  expect(f.message).not.toContain('high');
});

test('a body that is not JSON is non-retryable', async () => {
  next = { status: 200, body: '<html>' };
  expect((await failure()).message).toBe('Acme getThing: unexpected response, the body is not JSON');
});

test('no answer at all (connection refused) is retryable', async () => {
  const f = await callVendor({
    vendor: 'Acme',
    operation: 'getThing',
    method: 'GET',
    url: 'http://127.0.0.1:1/x',
  }).catch((e) => e);
  expect(f).toBeInstanceOf(ApplicationFailure);
  expect(f.type).toBe('VendorUnavailable');
  expect(f.nonRetryable).toBe(false);
  expect(f.message).toBe('Acme getThing: no response (ECONNREFUSED)');
});

test('Retry-After as seconds, as an HTTP date, capped, or absent', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  expect(parseRetryAfter('2', now)).toBe(2000);
  expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
  expect(parseRetryAfter('99999', now)).toBe(600_000);
  expect(parseRetryAfter(undefined, now)).toBeUndefined();
  expect(parseRetryAfter('soon', now)).toBeUndefined();
});

describe('httpTimeoutFor (issue 10): the HTTP timeout never outlives the activity attempt', () => {
  const info = (startToCloseTimeoutMs: number, scheduledAgoMs: number, now: number) => ({
    startToCloseTimeoutMs,
    currentAttemptScheduledTimestampMs: now - scheduledAgoMs,
  });
  const now = 1_000_000;
  test('outside an activity: as requested', () => expect(httpTimeoutFor(120_000, null, now)).toBe(120_000));
  test('a 120 s upload under a 30 s start-to-close: cut to the 28 s left (2 s margin)', () =>
    expect(httpTimeoutFor(120_000, info(30_000, 0, now), now)).toBe(28_000));
  test('time already spent in the attempt counts', () =>
    expect(httpTimeoutFor(120_000, info(30_000, 10_000, now), now)).toBe(18_000));
  test('a short request under a long start-to-close: as requested', () =>
    expect(httpTimeoutFor(30_000, info(180_000, 0, now), now)).toBe(30_000));
  test('never below 1 s', () => expect(httpTimeoutFor(30_000, info(30_000, 40_000, now), now)).toBe(1_000));
});
