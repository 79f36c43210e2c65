/**
 * Vendor HTTP, the Temporal way: got never retries on its own; every failure becomes a failure that
 * Temporal's retry policy understands.
 *
 *   transient  (5xx, 429, timeouts, resets, refused)  -> retryable ApplicationFailure
 *              429 honours Retry-After through nextRetryDelay
 *   business   (other 4xx)                            -> non-retryable `VendorRequestRejected`
 *   contract   (body does not match the zod schema)   -> non-retryable `VendorResponseInvalid`
 *
 * Inside an activity: the HTTP timeout never outlives the attempt (it is cut to what is
 * left of the activity's start-to-close, less a margin), so Temporal never starts a retry while the
 * first request is still running; the call heartbeats while it waits (so a `heartbeatTimeout` of
 * ~15 s notices a dead worker), and stops when Temporal cancels the activity (got's cancel bound to
 * `Context.current().cancellationSignal`: got 11 has no `signal` option).
 *
 * Messages name the vendor, the operation, the HTTP status and the vendor's error code: never the
 * request or response body, which can hold personal data.
 */
import got, { type Method, type OptionsOfBufferResponseBody, type Response, RequestError } from 'got';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { z } from 'zod';
import { observeVendorCall } from '../observability/vendor-calls';

export const FAILURE_TYPES = {
  unavailable: 'VendorUnavailable',
  rateLimited: 'VendorRateLimited',
  rejected: 'VendorRequestRejected',
  invalidResponse: 'VendorResponseInvalid',
} as const;

export interface VendorRequest<T> {
  vendor: string;
  operation: string;
  method: Method;
  url: string;
  headers?: Record<string, string>;
  json?: Record<string, unknown>;
  /** A raw body (binary uploads, plain-text values); the caller sets its content-type header. */
  body?: Buffer | string;
  /** Parse the body as JSON and validate it; omitted for binary downloads. */
  schema?: z.ZodType<T>;
  /** Reads the vendor's error code from an error body, for the failure details. */
  errorCode?: (body: unknown) => string | undefined;
  /**
   * Reads the vendor's fixed error title (e.g. an RFC 7807 `Title` such as "The request is invalid"),
   * for the message and details. Only short plain words are kept (no digits, no `@`): never a
   * free-text detail that could carry personal data.
   */
  errorTitle?: (body: unknown) => string | undefined;
  timeoutMs?: number;
  /**
   * A create the vendor gives no idempotency key or look-up for: the call's heartbeats
   * carry how many earlier attempts of this activity sent it without hearing an answer (see
   * `createsUnanswered`), so a retry knows that an untracked resource may exist at the vendor.
   */
  unansweredCreate?: true;
}

/**
 * Heartbeat details of an `unansweredCreate` call: creates of this activity that went out unanswered.
 * The server must keep a failed attempt's last heartbeat details (Temporal Server >= 1.16, the dev server).
 */
interface CreateMarker {
  createsUnanswered: number;
}

/**
 * How many earlier attempts of this activity sent their create and never heard the answer (the
 * connection dropped or timed out, the worker died mid-call): each may have left a resource at the
 * vendor that nothing tracks. An answered error (4xx/5xx) does not count: the vendor decided.
 */
export function createsUnanswered(): number {
  const ctx = activityContext();
  if (!ctx || ctx.info.attempt <= 1) return 0;
  const d = ctx.info.heartbeatDetails as Partial<CreateMarker> | undefined;
  return typeof d?.createsUnanswered === 'number' && d.createsUnanswered >= 0 ? d.createsUnanswered : 0;
}

export interface VendorResponse<T> {
  status: number;
  body: T;
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** Outside an activity (tests of pure code, the API) there is no context. */
function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/**
 * How often a waiting call heartbeats. The SDK sends an attempt's first heartbeat at once and throttles
 * the later ones to 80% of the heartbeat timeout (12 s of 15 s), so beating more often adds nothing; and
 * a call that beat first (a vendor's login before its create) delays the create's mark by up to 12 s, in
 * which a killed worker loses it (the create then goes out unmarked: a possible duplicate nobody flags).
 * At 7 s only a login slower than that beats first; 7 s + 12 s stays inside the 15 s heartbeat timeout.
 */
const HEARTBEAT_EVERY_MS = 7_000;
/**
 * When the SDK sends an attempt's heartbeats (core throttles): the first at once, then at most one per
 * window of 80% of the heartbeat timeout (30 s without one, at most 60 s), the latest details leaving at
 * the window's end, which opens the next window. `beat` heartbeats and answers when these details leave.
 */
const beatWindows = new WeakMap<Context, { windowEndsAt: number; pending: boolean }>();

function beat(ctx: Context, details: unknown, now = Date.now()): number {
  ctx.heartbeat(details);
  const timeout = ctx.info.heartbeatTimeoutMs ?? 0;
  const throttle = Math.min(timeout > 0 ? timeout * 0.8 : 30_000, 60_000);
  const w = beatWindows.get(ctx);
  if (w) {
    // A pending beat left at its window's end and opened the next window.
    while (w.pending && now >= w.windowEndsAt) {
      w.windowEndsAt += throttle;
      w.pending = false;
    }
    if (now < w.windowEndsAt) {
      w.pending = true;
      return w.windowEndsAt;
    }
  }
  beatWindows.set(ctx, { windowEndsAt: now + throttle, pending: false });
  return now;
}

/**
 * A create's mark must reach the server before the create leaves: a worker killed while the create waits
 * then leaves it for the next attempt. When an earlier call of the attempt beat first (a vendor's login slower
 * than HEARTBEAT_EVERY_MS), the mark waits for the throttle window to end, and so does the create (else a
 * killed worker would leave an unflagged duplicate), plus this much for the heartbeat's own call.
 */
const MARK_SENT_MARGIN_MS = 250;

/** Left between the HTTP timeout and the end of the attempt, for the answer to be recorded. */
const ATTEMPT_MARGIN_MS = 2_000;

/** The request's timeout, cut to what is left of this activity attempt. */
export function httpTimeoutFor(
  requestedMs: number,
  info: { startToCloseTimeoutMs: number; currentAttemptScheduledTimestampMs: number } | null,
  now = Date.now(),
): number {
  if (!info || !(info.startToCloseTimeoutMs > 0)) return requestedMs;
  const left = info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs - ATTEMPT_MARGIN_MS - now;
  return Math.max(1_000, Math.min(requestedMs, left));
}

/** One vendor HTTP call, measured and traced (observability/vendor-calls.ts). */
export function callVendor<T = Buffer>(req: VendorRequest<T>): Promise<VendorResponse<T>> {
  return observeVendorCall(req, (traceHeaders) =>
    sendVendorRequest({ ...req, headers: { ...req.headers, ...traceHeaders } }),
  );
}

async function sendVendorRequest<T>(req: VendorRequest<T>): Promise<VendorResponse<T>> {
  const what = `${req.vendor} ${req.operation}`;
  const ctx = activityContext();
  let res: Response<Buffer>;
  let beating: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  // Other calls of an activity that carries a mark keep it: their heartbeats replace the details, and
  // an undefined one would erase what earlier attempts left (a later attempt would then count 0).
  const carried = ctx ? createsUnanswered() : 0;
  const details: CreateMarker | undefined = req.unansweredCreate
    ? { createsUnanswered: carried + 1 }
    : carried > 0
      ? { createsUnanswered: carried }
      : undefined;
  if (ctx && req.unansweredCreate) {
    const leavesAt = beat(ctx, details);
    if (leavesAt > Date.now()) {
      await new Promise((r) => setTimeout(r, leavesAt - Date.now() + MARK_SENT_MARGIN_MS));
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`${what}: cancelled by Temporal`);
    }
  }
  try {
    const options: OptionsOfBufferResponseBody = {
      method: req.method,
      headers: req.headers,
      ...(req.json !== undefined ? { json: req.json } : {}),
      ...(req.body !== undefined ? { body: req.body } : {}),
      responseType: 'buffer',
      throwHttpErrors: false,
      retry: { limit: 0 },
      followRedirect: false,
      timeout: { request: httpTimeoutFor(req.timeoutMs ?? 30_000, ctx?.info ?? null) },
    };
    const request = got(req.url, options);
    if (ctx) {
      if (ctx.cancellationSignal.aborted) request.cancel();
      onCancel = () => request.cancel();
      ctx.cancellationSignal.addEventListener('abort', onCancel);
      // A call made before a create in the same attempt (a vendor's login) beats only on the interval, not at
      // once, so that the create's mark is usually the attempt's first heartbeat.
      beating = setInterval(() => beat(ctx, details), HEARTBEAT_EVERY_MS);
    }
    res = await request;
  } catch (err) {
    if (ctx?.cancellationSignal.aborted) throw new CancelledFailure(`${what}: cancelled by Temporal`);
    const code = err instanceof RequestError ? err.code : 'UNKNOWN';
    throw ApplicationFailure.retryable(`${what}: no response (${code})`, FAILURE_TYPES.unavailable, {
      vendor: req.vendor,
      operation: req.operation,
      networkError: code,
    });
  } finally {
    if (beating) clearInterval(beating);
    if (onCancel) ctx?.cancellationSignal.removeEventListener('abort', onCancel);
  }

  const status = res.statusCode;
  // Answered: this attempt's create is no longer unknown (a success is tracked, an error applied nothing).
  if (ctx && req.unansweredCreate && status >= 400)
    beat(ctx, { createsUnanswered: createsUnanswered() } satisfies CreateMarker);
  if (status === 429 || status >= 500) {
    const retryAfterMs = status === 429 ? parseRetryAfter(res.headers['retry-after']) : undefined;
    throw ApplicationFailure.create({
      message: `${what} answered ${status}`,
      type: status === 429 ? FAILURE_TYPES.rateLimited : FAILURE_TYPES.unavailable,
      nonRetryable: false,
      details: [{ vendor: req.vendor, operation: req.operation, httpStatus: status }],
      ...(retryAfterMs !== undefined ? { nextRetryDelay: retryAfterMs } : {}),
    });
  }
  if (status >= 400 || status < 200 || (status >= 300 && status < 400)) {
    const vendorCode = safeErrorCode(req, res.body);
    const vendorTitle = safeErrorTitle(req, res.body);
    throw ApplicationFailure.create({
      message: `${what} answered ${status}${vendorCode ? ` (${vendorCode})` : ''}${vendorTitle ? `: ${vendorTitle}` : ''}`,
      type: FAILURE_TYPES.rejected,
      nonRetryable: true,
      details: [
        {
          vendor: req.vendor,
          operation: req.operation,
          httpStatus: status,
          vendorCode: vendorCode ?? null,
          ...(vendorTitle ? { vendorTitle } : {}),
        },
      ],
    });
  }

  if (!req.schema) return { status, body: res.body as unknown as T, raw: res.body, headers: res.headers };
  let json: unknown;
  try {
    json = res.body.length ? JSON.parse(res.body.toString('utf8')) : undefined;
  } catch {
    throw invalidResponse(req, 'the body is not JSON');
  }
  const parsed = req.schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(body)';
    throw invalidResponse(req, `field "${field}": ${issue.message}`);
  }
  return { status, body: parsed.data, raw: res.body, headers: res.headers };
}

function invalidResponse(req: VendorRequest<unknown>, problem: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${req.vendor} ${req.operation}: unexpected response, ${problem}`,
    type: FAILURE_TYPES.invalidResponse,
    nonRetryable: true,
    details: [{ vendor: req.vendor, operation: req.operation }],
  });
}

function safeErrorCode(req: VendorRequest<unknown>, body: Buffer): string | undefined {
  if (!req.errorCode || !body.length) return undefined;
  try {
    const code = req.errorCode(JSON.parse(body.toString('utf8')));
    // Only short code-like words: a free-text message could carry personal data.
    return code && /^[A-Za-z0-9_.:-]{1,64}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function safeErrorTitle(req: VendorRequest<unknown>, body: Buffer): string | undefined {
  if (!req.errorTitle || !body.length) return undefined;
  try {
    const title = req.errorTitle(JSON.parse(body.toString('utf8')));
    return title && /^[A-Za-z][A-Za-z ,.'()-]{0,119}$/.test(title) ? title : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After is either seconds or an HTTP date. Capped at 10 minutes. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  const delay = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(v) - now;
  if (!Number.isFinite(delay) || delay < 0) return undefined;
  return Math.min(delay, 10 * 60_000);
}
