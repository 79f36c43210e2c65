/**
 * Which Temporal errors the API answers as 503 temporarily_unavailable (with Retry-After) rather than a
 * 500: the server or a worker not answering in time, unreachable, or shedding load.
 */
import { isTimeout } from '../../client/deadlines';

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
