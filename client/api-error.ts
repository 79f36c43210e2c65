/**
 * The error every handler throws to answer a 4xx or 5xx, and the `{ "error": { "code", "message" } }`
 * body it becomes (client/errors.ts turns every error into that answer). Its own module so the modules
 * that classify errors (client/deadlines.ts) and the one that answers them (client/errors.ts) share it
 * without depending on each other.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra response headers (e.g. Retry-After on a 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what = 'verification') => new ApiError(404, 'not_found', `${what} not found`);

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}
