/**
 * The ID360 sandbox's model: login tokens that slide, enrollments and their status flow (NEW -> STARTED
 * -> finalize -> verdict, or CANCELED), the verdict engine and the callbacks. The HTTP surface is in
 * ./routes.ts and ./control.ts.
 */
import crypto from 'node:crypto';
import type { z } from 'zod';
import type { callbackBody, createEnrollmentRequest } from '../../activities/id360/api';
import { FaultInjector } from '../framework/faults';
import { Ledger } from '../framework/ledger';
import { WebhookDispatcher } from '../framework/webhooks';
import { stepsStatus } from './documents';
import {
  emptyStats,
  FINAL,
  ID360_SAMPLE_IDENTITY,
  identityOf,
  type Enrollment,
  type Id360SandboxOptions,
  type Id360Stats,
  type Id360Status,
} from './types';

export class Id360Sandbox {
  readonly enrollments = new Map<number, Enrollment>();
  readonly faults = new FaultInjector();
  /** Side effects applied (framework/ledger.ts). */
  readonly ledger = new Ledger();
  readonly webhooks: WebhookDispatcher;
  readonly tokens = new Map<string, { expiresAt: number }>();
  stats: Id360Stats = emptyStats();
  callbacksEnabled = true;
  readonly routeId = 275128;
  private nextId = 104500;
  tokenLifetimeMs: number;
  enrollmentLifetimeMs: number;
  processingDelayMs: number;
  /** How long after the verdict the report (JSON and PDF) can be downloaded: 409 REPORT_NOT_AVAILABLE before. */
  reportDelayMs = 0;

  constructor(readonly options: Id360SandboxOptions) {
    this.webhooks = new WebhookDispatcher(options.webhooks);
    // `webhookFirst` fault: the create's answer waits for the NEW callback the create route sent.
    this.faults.webhookFirst = async (_req, since, maxMs) => {
      await this.webhooks.attemptedSince(since, maxMs);
    };
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 15 * 60_000;
    this.enrollmentLifetimeMs = options.enrollmentLifetimeMs ?? 24 * 3_600_000;
    this.processingDelayMs = options.processingDelayMs ?? 3000;
  }

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  // ---- login tokens ----

  login(username: unknown, password: unknown): string | null {
    if (username !== this.options.username || password !== this.options.password) {
      this.stats.failedLogins++;
      return null;
    }
    this.stats.logins++;
    const token = crypto.randomBytes(20).toString('hex');
    this.tokens.set(token, { expiresAt: this.now() + this.tokenLifetimeMs });
    return token;
  }

  /** Checks a token and slides its 15 minutes (every authenticated call but login does). */
  useToken(token: string): 'ok' | 'expired' | 'unknown' {
    const t = this.tokens.get(token);
    if (!t) return 'unknown';
    if (t.expiresAt <= this.now()) {
      this.tokens.delete(token);
      return 'expired';
    }
    t.expiresAt = this.now() + this.tokenLifetimeMs;
    return 'ok';
  }

  expireTokens(): number {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }

  // ---- enrollments ----

  create(processId: string, body: z.infer<typeof createEnrollmentRequest>): Enrollment {
    const { browser_callback_url, client_reference, callback_endpoints, callback_headers, ...applicant } = body;
    const e: Enrollment = {
      id: this.nextId++,
      apiKey: crypto.randomBytes(16).toString('hex'),
      processId,
      status: 'NEW',
      reason: null,
      clientReference: client_reference ?? null,
      browserCallbackUrl: browser_callback_url,
      callbackEndpoints: callback_endpoints,
      callbackHeaders: callback_headers ?? {},
      applicant: Object.fromEntries(
        Object.entries(applicant).filter((kv): kv is [string, string] => typeof kv[1] === 'string'),
      ),
      creationTime: this.now(),
      startingTime: null,
      finishedTime: null,
      routeId: this.routeId,
      selectedRoute: null,
      consent: { cgu: false, biometry: false },
      comparisons: {},
      totalPages: null,
      pages: {},
      selfie: null,
      finalized: false,
      reads: 0,
      scenario: { status: 'OK', reason: null, lateStarted: false },
      timers: [],
    };
    this.enrollments.set(e.id, e);
    // Keyed by our client_reference: two enrollments for one reference are a duplicate.
    this.ledger.record('enrollment-created', String(e.id), e.clientReference ?? undefined);
    e.timers.push(setTimeout(() => this.expire(e), this.enrollmentLifetimeMs).unref());
    return e;
  }

  find(ref: string): Enrollment | undefined {
    const byId = /^\d+$/.test(ref) ? this.enrollments.get(Number(ref)) : undefined;
    return byId ?? [...this.enrollments.values()].find((e) => e.apiKey === ref);
  }

  byApiKey(apiKey: string): Enrollment | undefined {
    return [...this.enrollments.values()].find((e) => e.apiKey === apiKey);
  }

  /** The first flow call moves NEW to STARTED (intermediate callback). */
  touch(e: Enrollment): void {
    if (e.status !== 'NEW') return;
    e.status = 'STARTED';
    e.startingTime = this.now();
    this.notify(e);
  }

  finalize(e: Enrollment): void {
    this.ledger.record('finalized', String(e.id), String(e.id));
    e.finalized = true;
    this.notify(e); // STARTED, with every step done
    e.timers.push(setTimeout(() => this.decide(e), this.processingDelayMs).unref());
  }

  /** The verdict of the engines: the chosen scenario, or KO when a compared value differs from the document. */
  decide(e: Enrollment): void {
    if (FINAL.includes(e.status)) return;
    const mismatch = Object.entries(e.comparisons).some(
      ([name, c]) =>
        c.value.trim().toLowerCase() !==
        String(identityOf(e)[name as keyof typeof ID360_SAMPLE_IDENTITY]).toLowerCase(),
    );
    const s = e.scenario;
    if (s.status === 'OK' && mismatch) this.end(e, 'KO', 'VLD_VALIDATION_KO');
    else
      this.end(
        e,
        s.status,
        s.reason ?? (s.status === 'KO' ? 'VLD_VALIDATION_KO' : s.status === 'FAILED' ? 'SEC_DATA_INJECTION' : null),
      );
  }

  /** Browser mode: the user does every step in ID360's pages, then finalizes. */
  complete(e: Enrollment): boolean {
    if (FINAL.includes(e.status) || e.finalized) return false;
    this.touch(e);
    e.selectedRoute = e.routeId;
    e.consent = { cgu: true, biometry: true };
    e.totalPages = 2;
    e.pages = { 0: { format: 'jpg', size: 1000 }, 1: { format: 'jpg', size: 1000 } };
    e.selfie = { format: 'jpg', size: 1000 };
    this.finalize(e);
    return true;
  }

  cancel(e: Enrollment): boolean {
    if (FINAL.includes(e.status)) return false;
    this.end(e, 'CANCELED', null);
    return true;
  }

  expire(e: Enrollment): boolean {
    if (FINAL.includes(e.status) || e.finalized) return false;
    this.end(e, 'CANCELED', 'ERL_TIMEOUT');
    return true;
  }

  /** Sends callbacks again, with the current status or an older one (out-of-order delivery). */
  resend(e: Enrollment, status: Id360Status = e.status, times = 1): void {
    for (let i = 0; i < times; i++) this.deliver(e, status);
  }

  stepsStatus(e: Enrollment): Record<string, string> {
    return stepsStatus(e);
  }

  view(e: Enrollment, withApiKey: boolean): Record<string, unknown> {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString().replace('Z', ''));
    return {
      url: `${this.options.publicUrl}/id360/api/1.0.0/enrollment/${e.id}`,
      id: e.id,
      process: 1,
      ...(withApiKey ? { api_key: e.apiKey } : {}),
      browser_callback_url: e.browserCallbackUrl,
      client_reference: e.clientReference,
      status: e.status,
      reason: e.reason,
      creation_time: iso(e.creationTime),
      starting_time: iso(e.startingTime),
      finished_time: iso(e.finishedTime),
      // The answer names the headers, never their values (as in the doc's example).
      callback_endpoints: e.callbackEndpoints.map((c) => ({
        url: c.url,
        on: c.on,
        headers: c.headers.map((h) => ({ name: h.name })),
      })),
    };
  }

  reportReady(e: Enrollment): boolean {
    return (
      (e.status === 'OK' || e.status === 'KO') &&
      e.finishedTime !== null &&
      this.now() - e.finishedTime >= this.reportDelayMs
    );
  }

  stop(): void {
    for (const e of this.enrollments.values()) for (const t of e.timers) clearTimeout(t);
    this.webhooks.stop();
  }

  private end(e: Enrollment, status: Id360Status, reason: string | null): void {
    e.status = status;
    e.reason = reason;
    e.finishedTime = this.now();
    for (const t of e.timers) clearTimeout(t);
    e.timers = [];
    this.notify(e);
    if (e.scenario.lateStarted) {
      // A STARTED callback whose first deliveries failed, retried after the final one went out.
      setTimeout(() => this.deliver(e, 'STARTED'), 50).unref();
    }
  }

  /** A callback with the enrollment's current status now (the `webhookFirst` fault on a create). */
  announce(e: Enrollment): void {
    this.notify(e);
  }

  private notify(e: Enrollment): void {
    if (this.callbacksEnabled) this.deliver(e, e.status);
  }

  private deliver(e: Enrollment, status: Id360Status): void {
    const letter =
      status === 'STARTED'
        ? 'S'
        : status === 'OK' || status === 'KO'
          ? 'E'
          : status === 'FAILED'
            ? 'F'
            : status === 'CANCELED'
              ? 'C'
              : status === 'DELETED'
                ? 'D'
                : 'N';
    const body = {
      id: e.id,
      status,
      reason: FINAL.includes(status) ? e.reason : null,
      client_reference: e.clientReference,
      steps_status: this.stepsStatus(e),
    } satisfies z.input<typeof callbackBody>;
    for (const c of e.callbackEndpoints) {
      if (c.on.length && !c.on.includes(letter)) continue;
      const headers = { ...e.callbackHeaders, ...Object.fromEntries(c.headers.map((h) => [h.name, h.value])) };
      this.webhooks.send(c.url, body, { event: status, tag: String(e.id), headers });
    }
  }
}
