/**
 * Per-vendor rate limits (config/worker.ts, VENDOR_RATE_LIMITS): the Temporal server hands out a vendor
 * task queue's activities at most N per second, so a burst of new verifications reaches the vendor
 * spread out. Measured at the sandbox: the time of each onboarding it created (its ledger).
 */
import crypto from 'node:crypto';
import { loadConfig, ConfigError } from '../config';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { startStack, type Stack } from './helpers/stack';

let temporal: TestTemporal;
let stack: Stack;
const RATE = 2;
const BURST = 12;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({ ...temporal, env: { VENDOR_RATE_LIMITS: `finwave:${RATE},*:50` } });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

/** The largest number of events inside any window of `ms` milliseconds. */
function maxInWindow(times: number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

test(`a burst of ${BURST} Finwave verifications reaches the vendor at most ~${RATE} activities per second`, async () => {
  const tag = crypto.randomBytes(4).toString('hex');
  const refs = Array.from({ length: BURST }, (_, i) => `burst-${tag}-${i}`);
  const results = await Promise.all(
    refs.map((reference) => stack.api('POST', '/v1/verifications', { provider: 'finwave', reference })),
  );
  for (const r of results) expect([200, 201]).toContain(r.status);
  const created = stack.sandbox.finwave.ledger.entries.filter(
    (e) => e.kind === 'onboarding-created' && e.key?.includes(tag),
  );
  expect(created).toHaveLength(BURST);
  const times = created.map((e) => Date.parse(e.at));
  const spreadMs = Math.max(...times) - Math.min(...times);
  // Unlimited, the 12 creates land within a few hundred ms. At 2/s (the server's token bucket allows a
  // burst of about one second's worth), the last of them comes at least (12 - 2 - 2) / 2 = 4 s after the first.
  expect(spreadMs).toBeGreaterThanOrEqual(((BURST - 2 * RATE) / RATE) * 1000);
  // Bucket (RATE) + one second's refill (RATE): never more in any one second.
  expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(2 * RATE);
}, 90_000);

test('VENDOR_RATE_LIMITS and the slot settings are read per vendor, defaults 20 per second', () => {
  const config = loadConfig({
    VENDOR_RATE_LIMITS: 'id360:0.5,*:7',
    WORKER_MAX_CONCURRENT_ACTIVITIES: '30',
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '9',
  });
  expect(config.vendorWorkers.activitiesPerSecond).toEqual({
    finwave: 7,
    fourthline: 7,
    authenteq: 7,
    namirial: 7,
    id360: 0.5,
  });
  expect(config.vendorWorkers.maxConcurrentActivityTaskExecutions).toBe(30);
  expect(config.vendorWorkers.maxConcurrentWorkflowTaskExecutions).toBe(9);
  expect(loadConfig({}).vendorWorkers.activitiesPerSecond.fourthline).toBe(20);
  expect(loadConfig({ VENDOR_RATE_LIMITS: 'namirial:off' }).vendorWorkers.activitiesPerSecond).toMatchObject({
    namirial: null,
    finwave: 20,
  });
});

test.each([['finwave:0'], ['finwave:-1'], ['acme:5'], ['finwave:5,finwave:6'], ['finwave'], ['']])(
  'VENDOR_RATE_LIMITS=%p is refused at start, naming the variable',
  (value) => {
    expect(() => loadConfig({ VENDOR_RATE_LIMITS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ VENDOR_RATE_LIMITS: value })).toThrow(/VENDOR_RATE_LIMITS/);
  },
);

test.each([
  ['WORKER_MAX_CONCURRENT_ACTIVITIES', '0'],
  ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 'many'],
  ['WORKER_METRICS_PORT', '70000'],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
])('%s=%p is refused at start', (name, value) => {
  expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
});
