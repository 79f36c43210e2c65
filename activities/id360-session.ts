/**
 * The ID360 login session: one per worker process, shared by every ID360 activity.
 *
 * ID360's rules (doc section 1.3, "MUST BE IMPLEMENTED"): the login token lives 15 minutes; every call that
 * uses it (except login) slides that window; `GET /api/1.0.0/user/whoami` every 13 minutes keeps it alive;
 * repeated logins may be read as abuse. So:
 *
 * - Single login. The first caller logs in; everyone arriving meanwhile waits on the same promise. 100
 *   activities starting together make one login.
 * - Re-login only after a 401, once for all waiters. A caller whose call answered 401 drops that token (only
 *   if it is still the current one) and joins or starts one login; the call is then repeated once. We never
 *   log in because our own clock *thinks* the token is old: the vendor's 401 is the only signal.
 * - Keep-alive only when needed. Every authenticated answer (2xx, or a 4xx other than 401: the token was
 *   accepted) records `lastUsedAt`. One timer, due 13 minutes after the last use, calls whoami only if
 *   nothing else used the token since, and only while some enrollment is in flight. With traffic, the
 *   traffic itself keeps the token alive and whoami is never called.
 * - In flight = holds. Each ID360 activity holds its enrollment for the time the workflow may still need
 *   it (the remaining overall deadline); the workflow's last activity releases it. A hold expires on its own,
 *   so an enrollment that finished on another worker process (or a workflow that never got to release)
 *   cannot keep this process calling whoami forever. No holds: the timer stops; an idle token just expires
 *   at ID360, and the next call gets a 401 and logs in once.
 * - The token is private to this object: it is handed to the request function as a header value, never
 *   returned to an activity's caller, never logged, and so never reaches workflow history.
 *
 * The clock and the timers are injectable, so a test can drive hours of sliding expiry in milliseconds
 * against the sandbox (whose token clock is injectable too).
 */
import { ApplicationFailure } from '@temporalio/common';
import { asyncLocalStorage } from '@temporalio/activity';
import { callVendor } from './http';
import { ID360_API, loginResponse } from './id360/api';

export const ID360_TOKEN_LIFETIME_MS = 15 * 60_000;
/** The doc's keep-alive period: whoami every 13 minutes (2 minutes of margin on the 15-minute token). */
export const ID360_KEEP_ALIVE_MS = 13 * 60_000;
/** After a failed whoami (network, 5xx), try again this soon, as long as the token may still be alive. */
const KEEP_ALIVE_RETRY_MS = 30_000;

export interface SessionClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: SessionClock = {
  now: () => Date.now(),
  // Outside the activity that set it: the keep-alive's whoami must not heartbeat (or be cancelled) as that activity.
  setTimer: (fn, ms) => asyncLocalStorage.exit(() => setTimeout(fn, ms).unref()),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SessionLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface Id360SessionOptions {
  /** ID360 host root, e.g. https://preprod.id360docaposte.com (the API is under /api/1.0.0). */
  baseUrl: string;
  username: string;
  password: string;
  clock?: SessionClock;
  keepAliveMs?: number;
  logger?: SessionLogger;
}

export interface Id360SessionStats {
  logins: number;
  whoami: number;
  /** Authenticated calls made through `call` (each repeat after a 401 counts). */
  calls: number;
  /** 401 answers seen (calls and whoami). */
  unauthorized: number;
  keepAliveFailures: number;
}

export class Id360Session {
  private token: string | null = null;
  private login: Promise<string> | null = null;
  private lastUsedAt = 0;
  private readonly holds = new Map<string, number>();
  private timer: unknown = null;
  private keepAlive: Promise<void> | null = null;
  private readonly clock: SessionClock;
  private readonly keepAliveMs: number;
  readonly stats: Id360SessionStats = { logins: 0, whoami: 0, calls: 0, unauthorized: 0, keepAliveFailures: 0 };

  constructor(private readonly options: Id360SessionOptions) {
    this.clock = options.clock ?? systemClock;
    this.keepAliveMs = options.keepAliveMs ?? ID360_KEEP_ALIVE_MS;
  }

  /**
   * Runs one authenticated vendor call. `request` gets the Authorization header value and must make
   * exactly one HTTP call with it (callVendor: a 401 surfaces as VendorRequestRejected with httpStatus 401).
   */
  async call<T>(request: (authorization: string) => Promise<T>): Promise<T> {
    const token = await this.currentToken();
    try {
      return await this.attempt(token, request);
    } catch (err) {
      if (httpStatusOf(err) !== 401) throw err;
      const fresh = await this.renewAfter401(token);
      return this.attempt(fresh, request);
    }
  }

  /** Marks an enrollment as in flight for `forMs` more (extends, never shortens). */
  hold(enrollmentId: string, forMs: number): void {
    const until = this.clock.now() + Math.max(0, forMs);
    this.holds.set(enrollmentId, Math.max(until, this.holds.get(enrollmentId) ?? 0));
    this.schedule();
  }

  release(enrollmentId: string): void {
    this.holds.delete(enrollmentId);
    if (!this.inFlight()) this.stopTimer();
  }

  /** Enrollments this process currently keeps the token alive for. */
  inFlight(): number {
    const now = this.clock.now();
    for (const [id, until] of this.holds) if (until <= now) this.holds.delete(id);
    return this.holds.size;
  }

  /** Resolves once a keep-alive call under way (if any) has finished: for tests and benchmarks. */
  async settled(): Promise<void> {
    while (this.keepAlive || this.login) await Promise.allSettled([this.keepAlive, this.login]);
  }

  /** Stops the timer (worker shutdown, tests). The token is forgotten. */
  close(): void {
    this.stopTimer();
    this.holds.clear();
    this.token = null;
  }

  // ---- internals ----

  private async attempt<T>(token: string, request: (authorization: string) => Promise<T>): Promise<T> {
    this.stats.calls++;
    try {
      const result = await request(`Token ${token}`);
      this.used(token);
      return result;
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 401) this.stats.unauthorized++;
      // Any other 4xx was answered after the token was accepted: ID360 slid its expiry all the same.
      else if (status !== undefined && status < 500) this.used(token);
      throw err;
    }
  }

  private currentToken(): Promise<string> {
    if (this.token) return Promise.resolve(this.token);
    return this.startLogin();
  }

  /** After `stale` answered 401: the one new login all waiters share (or the token someone already got). */
  private renewAfter401(stale: string): Promise<string> {
    if (this.token === stale) this.token = null;
    return this.currentToken();
  }

  private startLogin(): Promise<string> {
    this.login ??= this.doLogin().finally(() => {
      this.login = null;
    });
    return this.login;
  }

  private async doLogin(): Promise<string> {
    this.stats.logins++;
    const { body } = await callVendor({
      vendor: 'ID360',
      operation: 'login',
      method: ID360_API.login.method,
      url: `${this.options.baseUrl}${ID360_API.login.path}`,
      headers: { accept: 'application/json' },
      json: { username: this.options.username, password: this.options.password },
      schema: loginResponse,
      errorCode: id360ErrorCode,
    });
    this.token = body.token;
    this.lastUsedAt = this.clock.now(); // the 15 minutes start at login
    this.logger().info('ID360 session: logged in', { logins: this.stats.logins });
    this.schedule();
    return body.token;
  }

  private used(token: string): void {
    if (token === this.token) this.lastUsedAt = this.clock.now();
  }

  /** Makes sure one timer is due at `lastUsedAt + keepAliveMs` (or in `delayMs`) while something is in flight. */
  private schedule(delayMs?: number): void {
    if (this.timer !== null || this.keepAlive) return;
    if (!this.token || !this.inFlight()) return;
    const due = delayMs ?? Math.max(0, this.lastUsedAt + this.keepAliveMs - this.clock.now());
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.keepAlive = this.tick().then(
        (next) => {
          this.keepAlive = null;
          if (next !== null) this.schedule(next);
        },
        () => {
          this.keepAlive = null;
          this.schedule(KEEP_ALIVE_RETRY_MS);
        },
      );
    }, due);
  }

  private stopTimer(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  /**
   * One keep-alive decision. Answers when to look again: undefined = 13 minutes after the last use,
   * a number = that soon (a failed whoami), null = not until something new happens (a call, a hold).
   */
  private async tick(): Promise<number | undefined | null> {
    const token = this.token;
    if (!token || !this.inFlight()) return undefined; // nothing to keep alive, or nobody needs it: let it expire
    // Someone used the token since the timer was set: that call slid the expiry, no whoami needed.
    if (this.clock.now() - this.lastUsedAt < this.keepAliveMs) return undefined;
    try {
      await callVendor({
        vendor: 'ID360',
        operation: 'whoami',
        method: ID360_API.whoami.method,
        url: `${this.options.baseUrl}${ID360_API.whoami.path}`,
        headers: { accept: 'application/json', authorization: `Token ${token}` },
        errorCode: id360ErrorCode,
      });
      this.stats.whoami++;
      this.used(token);
      return undefined;
    } catch (err) {
      if (httpStatusOf(err) === 401) {
        // Gone at ID360 (expired or revoked). No login now: the next call that needs a token logs in once.
        this.stats.unauthorized++;
        if (this.token === token) this.token = null;
        this.logger().warn('ID360 session: keep-alive answered 401, the next call logs in again');
        return undefined;
      }
      this.stats.keepAliveFailures++;
      this.logger().warn('ID360 session: keep-alive failed', { failure: (err as Error).message });
      const left = this.lastUsedAt + ID360_TOKEN_LIFETIME_MS - this.clock.now();
      // Too late to save it: stop here; the next call meets the 401 and logs in once.
      return left > KEEP_ALIVE_RETRY_MS ? KEEP_ALIVE_RETRY_MS : null;
    }
  }

  private logger(): SessionLogger {
    return this.options.logger ?? quietLogger;
  }
}

const quietLogger: SessionLogger = {
  info: () => undefined,
  warn: (message, meta) => console.warn(`[id360-session] ${message}${meta ? ` ${JSON.stringify(meta)}` : ''}`),
};

/** The HTTP status carried by a callVendor failure, if the vendor answered at all. */
export function httpStatusOf(err: unknown): number | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  const d = err.details?.[0] as { httpStatus?: unknown } | undefined;
  return typeof d?.httpStatus === 'number' ? d.httpStatus : undefined;
}

/** ID360 error bodies are Django REST Framework's `{ detail }`, with a `code` where the sandbox knows one. */
export function id360ErrorCode(body: unknown): string | undefined {
  const b = body as { code?: unknown } | null;
  return typeof b?.code === 'string' ? b.code : undefined;
}
