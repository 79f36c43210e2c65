/**
 * The Finwave sandbox's model: onboardings and their status flow (CREATED -> INPROCESS -> FINISHED |
 * INCOMPLETED | TIMEOUT), the user's session clock, the test numbers that play themselves, and the
 * webhooks. The HTTP surface is in ./routes.ts and ./control.ts.
 */
import crypto from 'node:crypto';
import type { z } from 'zod';
import type { createIntegrationRequest, finwaveWebhookBody } from '../../activities/finwave/api';
import { FaultInjector } from '../framework/faults';
import { Ledger } from '../framework/ledger';
import { WebhookDispatcher } from '../framework/webhooks';
import { evidenceZip, onboardingResult } from './documents';
import type { FinwaveSandboxOptions, Onboarding, Scenario, Status } from './types';

const TEST_NUMBERS: Record<string, (s: FinwaveSandbox, o: Onboarding) => void> = {
  '600000001': (s, o) => (s.start(o), s.finish(o, 'approved')),
  '600000002': (s, o) => (s.start(o), s.abandon(o)),
  '600000003': (s, o) => s.timeout(o),
  '600000004': (s, o) => (s.start(o), s.finish(o, 'ocr-failed')),
};

export class FinwaveSandbox {
  readonly onboardings = new Map<string, Onboarding>();
  readonly faults = new FaultInjector();
  /** Side effects applied (framework/ledger.ts). */
  readonly ledger = new Ledger();
  readonly webhooks: WebhookDispatcher;
  webhooksEnabled = true;
  /** The user session length before Finwave turns it to TIMEOUT (the vendor clock). */
  sessionTimeoutMs: number;

  constructor(readonly options: FinwaveSandboxOptions) {
    this.webhooks = new WebhookDispatcher(options.webhooks);
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30 * 60_000;
  }

  create(body: z.infer<typeof createIntegrationRequest>): { onboarding: Onboarding; repeated: boolean } {
    const existing = [...this.onboardings.values()].find((o) => o.customId === body.customId);
    if (existing) return { onboarding: existing, repeated: true };
    const o: Onboarding = {
      onboardingId: crypto.randomBytes(9).toString('base64url'),
      customId: body.customId,
      webhook: body.webhook,
      phoneStep: body.phoneStep,
      acceptations: body.acceptations,
      status: 'CREATED',
      scenario: null,
      person: null,
      errorEvent: null,
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      logs: [],
      timer: null,
    };
    this.onboardings.set(o.onboardingId, o);
    this.ledger.record('onboarding-created', o.onboardingId, body.customId);
    o.timer = setTimeout(() => this.timeout(o), this.sessionTimeoutMs).unref();
    this.notify(o);
    const play = body.phone ? TEST_NUMBERS[body.phone] : undefined;
    if (play) setTimeout(() => play(this, o), this.options.autoPlayDelayMs ?? 2000).unref();
    return { onboarding: o, repeated: false };
  }

  userUrl(o: Onboarding): string {
    return `${this.options.publicUrl}/finwave/onboarding/${o.onboardingId}`;
  }

  visit(o: Onboarding): void {
    if (o.status === 'CREATED')
      this.logEvent(
        o,
        'USER_VISITED_ONBORDING_WEB',
        'The user has visited the web, but has not yet started the process.',
      );
  }

  start(o: Onboarding): boolean {
    if (o.status !== 'CREATED') return false;
    o.status = 'INPROCESS';
    o.startedAt = Date.now();
    this.logEvent(o, 'USER_START_ONBOARDING_PROCESS', 'The user has started the login process.');
    this.notify(o);
    return true;
  }

  finish(o: Onboarding, scenario: Scenario, person: Onboarding['person'] = null): boolean {
    if (o.status === 'CREATED') this.start(o);
    if (o.status !== 'INPROCESS') return false;
    o.scenario = scenario;
    o.person = person;
    o.errorEvent = scenario === 'ocr-failed' ? 'OCR_RETRIES_EXCEEDED' : null;
    for (const [code, description] of [
      ['OCR_STREAM_STARTED', 'The OCR process has been started.'],
      ['FRONT_DOCUMENT_SENDED', 'The user has sent the front part of his ID document.'],
      ['BACK_DOCUMENT_SENDED', 'The user has sent the back of his ID document.'],
      ['OCR_RESULT', 'The OCR process has completed.'],
      ['BIOMETRY_STARTED', 'The biometrics process has been started.'],
      ['BIOMETRY_FINISHED', 'The biometrics process has completed.'],
      ['PROCESS_FINISHED_SUCCESSFULLY', 'The identification process has been successfully completed.'],
    ] as const)
      this.logEvent(o, code, description);
    this.end(o, 'FINISHED');
    return true;
  }

  abandon(o: Onboarding): boolean {
    if (o.status !== 'CREATED' && o.status !== 'INPROCESS') return false;
    o.errorEvent = 'USER_LEAVES_PROCESS';
    this.logEvent(o, 'PROCESS_INCOMPLETED', 'The identification process has not been completed.');
    this.end(o, 'INCOMPLETED');
    return true;
  }

  timeout(o: Onboarding): boolean {
    if (o.status !== 'CREATED' && o.status !== 'INPROCESS') return false;
    o.errorEvent = 'TIME_EXPIRED';
    this.logEvent(o, 'SESSION_EXPIRED', 'The session has expired.');
    this.end(o, 'TIMEOUT');
    return true;
  }

  /** Sends a webhook again, with the current status or an older one (to play out-of-order delivery). */
  resend(o: Onboarding, result: Status = o.status, times = 1): void {
    for (let i = 0; i < times; i++)
      this.webhooks.send(
        o.webhook,
        { onboardingId: o.onboardingId, customId: o.customId, result } satisfies z.input<typeof finwaveWebhookBody>,
        { event: result, tag: o.onboardingId },
      );
  }

  result(o: Onboarding): Record<string, unknown> {
    return onboardingResult(o);
  }

  evidenceZip(o: Onboarding): Buffer {
    return evidenceZip(o);
  }
  stop(): void {
    for (const o of this.onboardings.values()) if (o.timer) clearTimeout(o.timer);
    this.webhooks.stop();
  }

  private end(o: Onboarding, status: Status): void {
    o.status = status;
    o.finishedAt = Date.now();
    if (o.timer) clearTimeout(o.timer);
    o.timer = null;
    this.notify(o);
  }

  private notify(o: Onboarding): void {
    if (this.webhooksEnabled) this.resend(o);
  }

  private logEvent(o: Onboarding, code: string, description: string): void {
    o.logs.push({ timestamp: Date.now(), code, description });
  }
}
