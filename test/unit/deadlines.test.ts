/**
 * Which Temporal errors the API answers as 503 temporarily_unavailable (with Retry-After) rather than a
 * 500: the server or a worker not answering in time, unreachable, or shedding load.
 */
import Fastify from 'fastify';
import { isStalledWorkflow, isTimeout, isUnansweredQuery, STALLED_RETRY_AFTER_SECONDS } from '../../client/deadlines';
import { installErrorHandling } from '../../client/errors';

/** What the API's error handler answers to a route that throws `err`. */
async function answerTo(err: Error) {
  const app = Fastify({ logger: false });
  installErrorHandling(app);
  app.get('/x', async () => {
    throw err;
  });
  try {
    return await app.inject({ method: 'GET', url: '/x' });
  } finally {
    await app.close();
  }
}

function serviceError(code: number): Error {
  return Object.assign(new Error(`${code} grpc`), { name: 'ServiceError', code });
}

test.each([
  [1, 'CANCELLED (the native connection: Timeout expired)'],
  [4, 'DEADLINE_EXCEEDED'],
  [8, 'RESOURCE_EXHAUSTED (a namespace or host rate limit)'],
  [14, 'UNAVAILABLE'],
])('gRPC %i %s is a 503', (code) => {
  expect(isTimeout(serviceError(code))).toBe(true);
  // Wrapped, as the SDK's errors carry the ServiceError as their cause.
  expect(isTimeout(Object.assign(new Error('wrapped'), { cause: serviceError(code) }))).toBe(true);
});

test.each([
  [3, 'INVALID_ARGUMENT'],
  [5, 'NOT_FOUND'],
  [9, 'FAILED_PRECONDITION'],
  [13, 'INTERNAL'],
])('gRPC %i %s is not', (code) => {
  expect(isTimeout(serviceError(code))).toBe(false);
});

test('an ordinary error is not', () => {
  expect(isTimeout(new TypeError('x'))).toBe(false);
  expect(isTimeout(undefined)).toBe(false);
});

/**
 * A verification whose workflow task keeps failing (chaos `...-211-signed`: the SDK's Update-ordering
 * nondeterminism) answered every action 500: its query fails with the worker's error. A 503
 * `verification_stalled` with Retry-After instead (client/errors.ts), not a timeout's 503.
 */
describe('a workflow whose task keeps failing', () => {
  // The query error as the API logged it in that run (its name was not an SDK error class).
  const machines = Object.assign(
    new Error(
      'Fatal error in workflow machines: UpdateMachine in state AcceptCommandCreated says the transition is invalid during event EventInfo { event_id: 181, event_type: WorkflowExecutionUpdateCompleted }',
    ),
    { name: 'Object' },
  );

  test('is stalled, directly or as a cause', () => {
    expect(isStalledWorkflow(machines)).toBe(true);
    expect(isStalledWorkflow(Object.assign(new Error('Failed to query Workflow'), { cause: machines }))).toBe(true);
    expect(isStalledWorkflow(new Error('[TMPRL1100] Nondeterminism error: Activity type of scheduled event'))).toBe(
      true,
    );
    expect(isTimeout(machines)).toBe(false);
  });

  test('an ordinary error or a timeout is not', () => {
    expect(isStalledWorkflow(new TypeError('x'))).toBe(false);
    expect(isStalledWorkflow(serviceError(4))).toBe(false);
    expect(isStalledWorkflow(undefined)).toBe(false);
  });

  test('the API answers it 503 verification_stalled with Retry-After, not 500', async () => {
    const res = await answerTo(machines);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe(String(STALLED_RETRY_AFTER_SECONDS));
    expect(res.json()).toEqual({
      error: { code: 'verification_stalled', message: expect.stringMatching(/workflow task keeps failing/) },
    });
  });
});

/** The SDK's ServiceError around a query's gRPC error (workflow-client.ts rethrowGrpcError). */
function queryFailure(code: number): Error {
  return Object.assign(new Error('Failed to query Workflow'), { name: 'ServiceError', cause: serviceError(code) });
}

describe('a query that got no answer for a reason of the moment (chaos: three 500s 31 s after a worker restart)', () => {
  test.each([
    [3, 'INVALID_ARGUMENT (the worker answered the query with a failure)'],
    [9, 'FAILED_PRECONDITION'],
    [13, 'INTERNAL'],
  ])('gRPC %i %s is unanswered', (code) => {
    expect(isUnansweredQuery(queryFailure(code))).toBe(true);
  });

  test("NOT_FOUND is not (a 404), nor another call's ServiceError, nor an ordinary error", () => {
    expect(isUnansweredQuery(queryFailure(5))).toBe(false);
    expect(
      isUnansweredQuery(
        Object.assign(new Error('Failed to signal Workflow'), { name: 'ServiceError', cause: serviceError(3) }),
      ),
    ).toBe(false);
    expect(isUnansweredQuery(new TypeError('Failed to query Workflow'))).toBe(false);
    expect(isUnansweredQuery(undefined)).toBe(false);
  });

  test('the API answers it 503 temporarily_unavailable with Retry-After, not 500', async () => {
    const res = await answerTo(queryFailure(3));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.json()).toEqual({ error: { code: 'temporarily_unavailable', message: expect.any(String) } });
  });
});
