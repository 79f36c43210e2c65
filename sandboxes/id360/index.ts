/**
 * ID360 (Docaposte) sandbox: the enrollment API of ../shared/vendor-docs/id360-docaposte-enrollment.txt,
 * served under `/id360` (so the host root our service is configured with is `<sandbox>/id360`, and the API
 * lives under `<sandbox>/id360/api/1.0.0`).
 *
 * Vendor API (as documented; auth column: T = `Authorization: Token <t>`, K = `x-api-key: <enrollment api_key>`)
 * | POST /api/1.0.0/user/login/                                             | -  | {username,password} -> {token}; 15-minute token |
 * | GET  /api/1.0.0/user/whoami                                             | T  | 200 while the token lives; slides it like every T call |
 * | POST /api/1.0.0/process/{id}/enrollment                                 | T  | -> 200 {id, api_key, status: NEW, ...}           |
 * | GET  /api/1.0.0/enrollment/flow/enrollment_info/                        | K  | {routes: [{id}], ...}                            |
 * | POST /api/1.0.0/enrollment/flow/route/{route_id}/select/                | K  | 204                                               |
 * | POST /api/1.0.0/enrollment/flow/consent/?accepted_cgu=&accepted_biometry= | K | 204                                             |
 * | POST /api/1.0.0/enrollment/{id}/control/data/{data_name}/?locked=true   | T  | raw value as body; 204                            |
 * | POST /api/1.0.0/enrollment/flow/document/id_document_image/?total_pages=&uploaded_page= | K | one page per request; 204 |
 * | POST /api/1.0.0/enrollment/flow/document/selfie_image_upload/?total_pages=1&uploaded_page=0 | K | 204; needs accepted_biometry |
 * | POST /api/1.0.0/enrollment/flow/finalize_enrollment                     | K  | 204 (mandatory)                                   |
 * | GET  /api/1.0.0/enrollment/{id}/report[?allow_draft=true]               | T  | JSON, once the final callback went out            |
 * | GET  /static/process_ui/index.html#/enrollment/{api_key}                | -  | the user's pages (browser mode)                   |
 * Paths answer with or without the trailing slash (the doc writes both).
 *
 * Assumptions beyond the doc (kept here, the one place):
 * - Errors are Django REST Framework style `{ detail }` plus a `code`; 401 `{"detail":"Invalid token."}`
 *   (unknown / expired token), `{"detail":"Invalid api key."}` (x-api-key); a T call with an expired token is
 *   401 and does not revive it. x-api-key calls neither need nor slide the token.
 * - `GET /api/1.0.0/enrollment/{id}/` (the `url` the create call returns) reads the enrollment (no api_key).
 * - The PDF report (the doc points to a separate method) is `GET /api/1.0.0/enrollment/{id}/report/pdf/`.
 * - A report is 409 REPORT_NOT_AVAILABLE before the final callback (draft with allow_draft=true while
 *   NEW / STARTED / CANCELED); FAILED has none.
 * - Callback body `{ id, status, reason, client_reference, steps_status }`, POSTed to every registered
 *   endpoint whose `on` filter matches, with that endpoint's headers (and the legacy `callback_headers`),
 *   retried with backoff until answered 2xx. `on` letters: S = STARTED, E = ended with a verdict (OK / KO),
 *   F = FAILED, C = CANCELED, D = DELETED; an empty list = every status change.
 * - Status flow: NEW -> STARTED (first flow call) -> [finalize] -> OK | KO | FAILED after `processingDelayMs`;
 *   CANCELED when the user cancels, or with reason ERL_TIMEOUT when the enrollment is not finalized within
 *   `enrollmentLifetimeMs` (24 h by default; the doc gives no figure).
 * - Uploads: jpg / png / pdf / heic (sniffed from the bytes, not from headers) up to 9.5 MB per page:
 *   400 UNSUPPORTED_FORMAT, 413 FILE_TOO_LARGE; a selfie must be an image and needs accepted_biometry.
 *   Uploads need the route selected and accepted_cgu (409 otherwise); re-sending a page replaces it;
 *   finalize needs every page of total_pages (409 DOCUMENT_INCOMPLETE), twice is 409 ENROLLMENT_ALREADY_FINALIZED.
 * - Data comparison names: name, first_name, birth_date; a locked value cannot be sent again (409
 *   DATA_LOCKED). A value that differs from what the document says makes the verdict KO (VLD_VALIDATION_KO).
 *
 * Playing the end user and picking scenarios (the control surface, never part of ID360's API;
 * `:ref` is the enrollment id or its api_key)
 * | POST /_sandbox/enrollments/:ref/scenario {status, reason?, lateStarted?} | verdict at finalize: OK | KO | FAILED (default OK); lateStarted: a retried STARTED callback lands after the final one |
 * | POST /_sandbox/enrollments/:ref/complete {status?, reason?}     | browser mode: the user does every step and finalizes |
 * | POST /_sandbox/enrollments/:ref/cancel                          | the user cancels: CANCELED                           |
 * | POST /_sandbox/enrollments/:ref/expire                          | ID360's own clock runs out now: CANCELED (ERL_TIMEOUT) |
 * | POST /_sandbox/enrollments/:ref/callbacks {status?, times?}     | send callbacks again (duplicates, or an old status) |
 * | GET  /_sandbox/enrollments/:ref                                 | the sandbox's view, with every callback delivery     |
 * | GET  /_sandbox/stats, DELETE /_sandbox/stats                    | logins, whoami, token and api-key calls counted      |
 * | POST /_sandbox/tokens/expire                                    | every login token dies now (as after 15 idle minutes) |
 * | POST /_sandbox/settings {callbacks?: on|off, reportDelayMs?}    | stop sending callbacks (to prove polling); make the report lag the verdict |
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FaultInjector, registerFaults } from '../framework/faults';
import { Ledger, registerLedger } from '../framework/ledger';
import { WebhookDispatcher, type WebhookOptions } from '../framework/webhooks';

export type Id360Status = 'NEW' | 'STARTED' | 'CANCELED' | 'FAILED' | 'OK' | 'KO' | 'DELETED';
const FINAL: readonly Id360Status[] = ['CANCELED', 'FAILED', 'OK', 'KO', 'DELETED'];
export const ID360_VERDICTS = ['OK', 'KO', 'FAILED'] as const;
type Verdict = (typeof ID360_VERDICTS)[number];

export const ID360_MAX_UPLOAD_BYTES = 9.5 * 1024 * 1024;
const DATA_NAMES = ['name', 'first_name', 'birth_date'] as const;
/** What the sandbox's document "says": data comparisons are checked against it. */
export const ID360_SAMPLE_IDENTITY = {
  name: 'DUPONT',
  first_name: 'Jean',
  birth_date: '1990-01-01',
  document_number: 'X4RTBPFW4',
};
const identityOf = (e: { document?: Partial<typeof ID360_SAMPLE_IDENTITY> }) => ({
  ...ID360_SAMPLE_IDENTITY,
  ...e.document,
});

interface CallbackEndpoint {
  url: string;
  on: string[];
  headers: { name: string; value: string }[];
}

export interface Enrollment {
  id: number;
  apiKey: string;
  processId: string;
  status: Id360Status;
  reason: string | null;
  clientReference: string | null;
  browserCallbackUrl: string;
  callbackEndpoints: CallbackEndpoint[];
  callbackHeaders: Record<string, string>;
  /** Informational applicant fields (never checked, as the doc says). */
  applicant: Record<string, string>;
  creationTime: number;
  startingTime: number | null;
  finishedTime: number | null;
  routeId: number;
  selectedRoute: number | null;
  consent: { cgu: boolean; biometry: boolean };
  comparisons: Record<string, { value: string; locked: boolean }>;
  totalPages: number | null;
  pages: Record<number, { format: string; size: number }>;
  selfie: { format: string; size: number } | null;
  finalized: boolean;
  /** How many times the enrollment was read (GET /enrollment/{id}/): polling, seen from the vendor's side. */
  reads: number;
  scenario: { status: Verdict; reason: string | null; lateStarted: boolean };
  /** What the user's identity document says (default: the sample document); data comparisons are checked against it. */
  document?: Partial<typeof ID360_SAMPLE_IDENTITY>;
  timers: NodeJS.Timeout[];
}

export interface Id360SandboxOptions {
  username: string;
  password: string;
  processId: string;
  /** The sandbox's own public base URL, e.g. http://127.0.0.1:8090 */
  publicUrl: string;
  /** The vendor's clock for tokens and timestamps; a test injects a fake one to play hours in milliseconds. */
  now?: () => number;
  tokenLifetimeMs?: number;
  enrollmentLifetimeMs?: number;
  /** Finalize -> verdict. */
  processingDelayMs?: number;
  webhooks?: WebhookOptions;
}

export interface Id360Stats {
  logins: number;
  failedLogins: number;
  whoami: number;
  /** Calls authenticated by a login token (whoami included). */
  tokenCalls: number;
  /** Calls authenticated by an enrollment api_key. */
  apiKeyCalls: number;
  /** 401 answers. */
  unauthorized: number;
  /** Every vendor API call (control paths excluded). */
  total: number;
}

const emptyStats = (): Id360Stats => ({
  logins: 0,
  failedLogins: 0,
  whoami: 0,
  tokenCalls: 0,
  apiKeyCalls: 0,
  unauthorized: 0,
  total: 0,
});

const createBody = z.object({
  browser_callback_url: z.string().url(),
  client_reference: z.string().max(255).optional(),
  callback_endpoints: z
    .array(
      z.object({
        url: z.string().url(),
        on: z.array(z.enum(['S', 'E', 'F', 'C', 'D'])).default([]),
        headers: z.array(z.object({ name: z.string().min(1).max(100), value: z.string().max(500) })).default([]),
      }),
    )
    .min(1, 'at least one callback endpoint is required'),
  callback_headers: z.record(z.string(), z.string()).optional(),
  last_name: z.string().optional(),
  first_name: z.string().optional(),
  email: z.string().optional(),
  address_line_1: z.string().optional(),
  address_line_2: z.string().optional(),
  address_line_3: z.string().optional(),
  zip_code: z.string().optional(),
  city: z.string().optional(),
  country: z.string().optional(),
  phone_number: z.string().optional(),
  group: z.string().optional(),
});

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

  create(processId: string, body: z.infer<typeof createBody>): Enrollment {
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
    const done = (b: boolean) => (b ? 'DONE' : 'TODO');
    const pages = e.totalPages !== null && Object.keys(e.pages).length === e.totalPages;
    return {
      route_selection: done(e.selectedRoute !== null),
      consent: done(e.consent.cgu),
      id_document: done(pages),
      selfie: e.selfie ? 'DONE' : e.consent.biometry ? 'TODO' : 'SKIPPED',
      finalize: done(e.finalized),
    };
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

  report(e: Enrollment, draft: boolean): Record<string, unknown> {
    const verdict = e.status === 'OK' || e.status === 'KO';
    const checks: { name: string; result: string; score?: number }[] = [];
    if (verdict || draft) {
      const ok = e.status === 'OK' || (draft && e.status !== 'KO');
      checks.push({ name: 'document_authenticity', result: ok || e.reason !== 'VLD_VALIDATION_KO' ? 'OK' : 'KO' });
      if (e.selfie)
        checks.push({
          name: 'face_match',
          result: e.reason === 'MDL_CHALLENGE_NOT_MET' ? 'KO' : 'OK',
          score: e.reason === 'MDL_CHALLENGE_NOT_MET' ? 0.21 : 0.97,
        });
      for (const [name, c] of Object.entries(e.comparisons)) {
        const same =
          c.value.trim().toLowerCase() ===
          String(identityOf(e)[name as keyof typeof ID360_SAMPLE_IDENTITY]).toLowerCase();
        checks.push({ name: `data_comparison.${name}`, result: same ? 'OK' : 'KO' });
      }
    }
    return {
      id: e.id,
      status: e.status,
      reason: e.reason,
      draft,
      client_reference: e.clientReference,
      creation_time: new Date(e.creationTime).toISOString(),
      finished_time: e.finishedTime ? new Date(e.finishedTime).toISOString() : null,
      route: { id: e.routeId, name: 'Docaposte customizable online process' },
      steps_status: this.stepsStatus(e),
      checks,
      extracted_data:
        verdict || draft
          ? {
              identity: [
                {
                  name: identityOf(e).name,
                  first_names: [identityOf(e).first_name],
                  birth_date: identityOf(e).birth_date,
                  document_number: identityOf(e).document_number,
                },
              ],
            }
          : null,
      documents: [
        ...Object.entries(e.pages).map(([page, p]) => ({
          type: 'id_document_image',
          page: Number(page),
          format: p.format,
          size: p.size,
        })),
        ...(e.selfie ? [{ type: 'selfie_image_upload', page: 0, format: e.selfie.format, size: e.selfie.size }] : []),
      ],
    };
  }

  reportPdf(e: Enrollment): Buffer {
    return minimalPdf(`ID360 sandbox report - enrollment ${e.id} - ${e.status}${e.reason ? ` (${e.reason})` : ''}`);
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
    };
    for (const c of e.callbackEndpoints) {
      if (c.on.length && !c.on.includes(letter)) continue;
      const headers = { ...e.callbackHeaders, ...Object.fromEntries(c.headers.map((h) => [h.name, h.value])) };
      this.webhooks.send(c.url, body, { event: status, tag: String(e.id), headers });
    }
  }
}

/** A one-page PDF with a line of text: enough for a reader and for `%PDF` sniffing. */
function minimalPdf(text: string): Buffer {
  const safe = text.replace(/[()\\]/g, '');
  const stream = `BT /F1 12 Tf 50 750 Td (${safe}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** jpg / png / pdf / heic by their magic bytes, or null. */
export function sniffFormat(b: Buffer): 'jpg' | 'png' | 'pdf' | 'heic' | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png';
  if (b.length >= 5 && b.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  if (
    b.length >= 12 &&
    b.subarray(4, 8).toString('latin1') === 'ftyp' &&
    /^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(b.subarray(8, 12).toString('latin1'))
  )
    return 'heic';
  return null;
}

function vendorError(reply: FastifyReply, status: number, code: string, detail: string) {
  return reply.code(status).send({ detail, code });
}

export function registerId360Sandbox(app: FastifyInstance, sandbox: Id360Sandbox): void {
  registerFaults(app, sandbox.faults);
  registerLedger(app, sandbox.ledger);
  // Uploads are raw bytes with whatever content type the client sends (curl --data-binary: form-urlencoded).
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 20 * 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  app.addHook('onRequest', async (req) => {
    if (!req.url.includes('/_sandbox') && req.url.includes('/api/1.0.0/')) sandbox.stats.total++;
  });

  const tokenAuth = async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Token (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m) {
      sandbox.stats.unauthorized++;
      return reply
        .code(401)
        .header('www-authenticate', 'Token')
        .send({ detail: 'Authentication credentials were not provided.', code: 'NOT_AUTHENTICATED' });
    }
    const state = sandbox.useToken(m[1]!);
    if (state !== 'ok') {
      sandbox.stats.unauthorized++;
      return reply
        .code(401)
        .header('www-authenticate', 'Token')
        .send({ detail: 'Invalid token.', code: state === 'expired' ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN' });
    }
    sandbox.stats.tokenCalls++;
  };
  const apiKeyAuth = async (req: FastifyRequest, reply: FastifyReply) => {
    const key = req.headers['x-api-key'];
    const e = typeof key === 'string' ? sandbox.byApiKey(key) : undefined;
    if (!e) {
      sandbox.stats.unauthorized++;
      return reply.code(401).send({ detail: 'Invalid api key.', code: 'INVALID_API_KEY' });
    }
    sandbox.stats.apiKeyCalls++;
    (req as FastifyRequest & { enrollment?: Enrollment }).enrollment = e;
  };
  const enrollmentOf = (req: FastifyRequest) => (req as FastifyRequest & { enrollment: Enrollment }).enrollment;
  const byId = (req: FastifyRequest, reply: FastifyReply): Enrollment | undefined => {
    const e = sandbox.find(String((req.params as { id: string }).id));
    if (!e || !/^\d+$/.test((req.params as { id: string }).id)) void vendorError(reply, 404, 'NOT_FOUND', 'Not found.');
    return e;
  };
  /** Both spellings: the doc writes some paths with the trailing slash and some without. */
  const both = (path: string) => (path.endsWith('/') ? [path, path.slice(0, -1)] : [path, `${path}/`]);
  const api = '/api/1.0.0';

  for (const path of both(`${api}/user/login/`)) {
    app.post(path, async (req, reply) => {
      const b = (req.body ?? {}) as { username?: unknown; password?: unknown };
      const token = sandbox.login(b.username, b.password);
      if (!token) return vendorError(reply, 401, 'INVALID_CREDENTIALS', 'Unable to log in with provided credentials.');
      return { token };
    });
  }

  for (const path of both(`${api}/user/whoami`)) {
    app.get(path, { preHandler: tokenAuth }, async () => {
      sandbox.stats.whoami++;
      return { username: sandbox.options.username, type: 'application' };
    });
  }

  for (const path of both(`${api}/process/:processId/enrollment`)) {
    app.post(path, { preHandler: tokenAuth }, async (req, reply) => {
      const processId = (req.params as { processId: string }).processId;
      if (processId !== sandbox.options.processId) return vendorError(reply, 404, 'PROCESS_NOT_FOUND', 'Not found.');
      const parsed = createBody.safeParse(req.body);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        return reply.code(400).send({ [i.path.join('.') || 'non_field_errors']: [i.message], code: 'INVALID' });
      }
      const e = sandbox.create(processId, parsed.data);
      // `webhookFirst` fault: a NEW callback (ID360 sends none by default) reaches the receiver before this answer.
      if (sandbox.faults.callsBackFirst(req)) sandbox.announce(e);
      return sandbox.view(e, true);
    });
  }

  for (const path of both(`${api}/enrollment/:id/`)) {
    app.get(path, { preHandler: tokenAuth }, async (req, reply) => {
      const e = byId(req, reply);
      if (!e) return;
      e.reads++;
      return sandbox.view(e, false);
    });
  }

  for (const path of both(`${api}/enrollment/flow/enrollment_info/`)) {
    app.get(path, { preHandler: apiKeyAuth }, async (req) => {
      const e = enrollmentOf(req);
      return {
        id: e.id,
        status: e.status,
        routes: [{ id: e.routeId, name: 'Docaposte customizable online process' }],
        selected_route: e.selectedRoute,
        accepted_cgu: e.consent.cgu,
        accepted_biometry: e.consent.biometry,
        expected_data: [...DATA_NAMES],
        steps_status: sandbox.stepsStatus(e),
      };
    });
  }

  /** Flow steps are possible until the enrollment is finalized or closed. */
  const open = (e: Enrollment, reply: FastifyReply): boolean => {
    if (FINAL.includes(e.status)) void vendorError(reply, 409, 'ENROLLMENT_CLOSED', `The enrollment is ${e.status}.`);
    else if (e.finalized)
      void vendorError(reply, 409, 'ENROLLMENT_ALREADY_FINALIZED', 'The enrollment has been finalized.');
    else return true;
    return false;
  };

  for (const path of both(`${api}/enrollment/flow/route/:routeId/select/`)) {
    app.post(path, { preHandler: apiKeyAuth }, async (req, reply) => {
      const e = enrollmentOf(req);
      const routeId = Number((req.params as { routeId: string }).routeId);
      if (!open(e, reply)) return;
      if (routeId !== e.routeId) return vendorError(reply, 404, 'ROUTE_NOT_FOUND', 'Not found.');
      e.selectedRoute = routeId;
      sandbox.touch(e);
      return reply.code(204).send();
    });
  }

  for (const path of both(`${api}/enrollment/flow/consent/`)) {
    app.post(path, { preHandler: apiKeyAuth }, async (req, reply) => {
      const e = enrollmentOf(req);
      const q = req.query as Record<string, string | undefined>;
      if (!open(e, reply)) return;
      if (e.selectedRoute === null) return vendorError(reply, 409, 'ROUTE_NOT_SELECTED', 'Select a route first.');
      if (q.accepted_cgu !== 'true') return vendorError(reply, 400, 'CGU_NOT_ACCEPTED', 'accepted_cgu must be true.');
      e.consent = { cgu: true, biometry: q.accepted_biometry === 'true' };
      sandbox.ledger.record('consent', String(e.id));
      return reply.code(204).send();
    });
  }

  for (const path of both(`${api}/enrollment/:id/control/data/:dataName/`)) {
    app.post(path, { preHandler: tokenAuth }, async (req, reply) => {
      const e = byId(req, reply);
      if (!e || !open(e, reply)) return;
      const name = (req.params as { dataName: string }).dataName;
      if (!(DATA_NAMES as readonly string[]).includes(name))
        return vendorError(reply, 400, 'UNKNOWN_DATA', `Unknown data name; expected one of ${DATA_NAMES.join(', ')}.`);
      const raw = req.body;
      const value = (Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '').trim();
      if (!value) return vendorError(reply, 400, 'EMPTY_VALUE', 'The body must contain the value to compare.');
      if (e.comparisons[name]?.locked) return vendorError(reply, 409, 'DATA_LOCKED', 'This data is locked.');
      e.comparisons[name] = { value, locked: (req.query as { locked?: string }).locked === 'true' };
      sandbox.ledger.record('data-compared', String(e.id));
      return reply.code(204).send();
    });
  }

  for (const docType of ['id_document_image', 'selfie_image_upload'] as const) {
    for (const path of both(`${api}/enrollment/flow/document/${docType}/`)) {
      app.post(path, { preHandler: apiKeyAuth, bodyLimit: 20 * 1024 * 1024 }, async (req, reply) => {
        const e = enrollmentOf(req);
        if (!open(e, reply)) return;
        if (e.selectedRoute === null) return vendorError(reply, 409, 'ROUTE_NOT_SELECTED', 'Select a route first.');
        if (!e.consent.cgu)
          return vendorError(reply, 409, 'CONSENT_REQUIRED', 'accepted_cgu is required before uploads.');
        const q = req.query as Record<string, string | undefined>;
        const total = Number(q.total_pages);
        const page = Number(q.uploaded_page);
        if (!Number.isInteger(total) || total < 1 || total > 10)
          return vendorError(reply, 400, 'INVALID_TOTAL_PAGES', 'total_pages must be an integer from 1 to 10.');
        if (!Number.isInteger(page) || page < 0 || page >= total)
          return vendorError(reply, 400, 'INVALID_UPLOADED_PAGE', 'uploaded_page must be from 0 to total_pages - 1.');
        const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : '');
        if (!bytes.length) return vendorError(reply, 400, 'EMPTY_FILE', 'The file is empty.');
        if (bytes.length > ID360_MAX_UPLOAD_BYTES)
          return vendorError(reply, 413, 'FILE_TOO_LARGE', 'The file exceeds 9.5 MB.');
        const format = sniffFormat(bytes);
        if (!format) return vendorError(reply, 400, 'UNSUPPORTED_FORMAT', 'Accepted formats: jpg, png, pdf, heic.');
        if (docType === 'selfie_image_upload') {
          if (total !== 1) return vendorError(reply, 400, 'INVALID_TOTAL_PAGES', 'total_pages must be 1 for a selfie.');
          if (!e.consent.biometry)
            return vendorError(reply, 409, 'BIOMETRY_CONSENT_REQUIRED', 'accepted_biometry is required for a selfie.');
          if (format === 'pdf') return vendorError(reply, 400, 'UNSUPPORTED_FORMAT', 'A selfie must be an image.');
          e.selfie = { format, size: bytes.length };
          sandbox.ledger.record('selfie-uploaded', String(e.id));
        } else {
          if (e.totalPages !== null && e.totalPages !== total)
            return vendorError(
              reply,
              400,
              'TOTAL_PAGES_MISMATCH',
              `total_pages was ${e.totalPages} for the earlier pages.`,
            );
          e.totalPages = total;
          e.pages[page] = { format, size: bytes.length };
          sandbox.ledger.record('page-uploaded', String(e.id));
        }
        return reply.code(204).send();
      });
    }
  }

  for (const path of both(`${api}/enrollment/flow/finalize_enrollment`)) {
    app.post(path, { preHandler: apiKeyAuth }, async (req, reply) => {
      const e = enrollmentOf(req);
      if (!open(e, reply)) return;
      if (e.totalPages === null || Object.keys(e.pages).length !== e.totalPages) {
        return vendorError(reply, 409, 'DOCUMENT_INCOMPLETE', 'Every page of the identity document is required.');
      }
      sandbox.finalize(e);
      return reply.code(204).send();
    });
  }

  for (const path of both(`${api}/enrollment/:id/report/pdf/`)) {
    app.get(path, { preHandler: tokenAuth }, async (req, reply) => {
      const e = byId(req, reply);
      if (!e) return;
      if (!sandbox.reportReady(e))
        return vendorError(
          reply,
          409,
          'REPORT_NOT_AVAILABLE',
          'The report is available once the enrollment has a verdict.',
        );
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="report-${e.id}.pdf"`)
        .send(sandbox.reportPdf(e));
    });
  }

  for (const path of both(`${api}/enrollment/:id/report`)) {
    app.get(path, { preHandler: tokenAuth }, async (req, reply) => {
      const e = byId(req, reply);
      if (!e) return;
      const draft = ['true', 'True', '1'].includes(String((req.query as { allow_draft?: string }).allow_draft));
      if (sandbox.reportReady(e)) return sandbox.report(e, false);
      if (draft && (e.status === 'NEW' || e.status === 'STARTED' || e.status === 'CANCELED'))
        return sandbox.report(e, true);
      return vendorError(reply, 409, 'REPORT_NOT_AVAILABLE', 'The report is available after the final callback.');
    });
  }

  // ---- The user's pages (browser mode) ----

  app.get('/static/process_ui/index.html', async (_req, reply) => reply.type('text/html').send(userPage()));

  // ---- Control surface ----

  const findRef = (req: FastifyRequest, reply: FastifyReply): Enrollment | undefined => {
    const e = sandbox.find((req.params as { ref: string }).ref);
    if (!e) void reply.code(404).send({ error: { code: 'not_found', message: 'no such enrollment (id or api_key)' } });
    return e;
  };
  const statusEnum = z.enum(['NEW', 'STARTED', 'CANCELED', 'FAILED', 'OK', 'KO', 'DELETED']);
  const reasonSchema = z
    .string()
    .regex(/^[A-Z0-9_]{2,64}$/)
    .nullable()
    .optional();

  app.post('/_sandbox/enrollments/:ref/:action', async (req, reply) => {
    const e = findRef(req, reply);
    if (!e) return;
    const action = (req.params as { action: string }).action;
    const body = (req.body ?? {}) as Record<string, unknown>;
    let ok: boolean;
    switch (action) {
      case 'scenario':
      case 'complete': {
        const document = z
          .object({
            name: z.string().max(100),
            first_name: z.string().max(100),
            birth_date: z.string().max(10),
            document_number: z.string().max(40),
          })
          .partial();
        const p = z
          .object({
            status: z.enum(ID360_VERDICTS).default('OK'),
            reason: reasonSchema,
            lateStarted: z.boolean().default(false),
            document: document.optional(),
          })
          .safeParse(body);
        if (!p.success)
          return reply
            .code(400)
            .send({
              error: {
                code: 'invalid_scenario',
                message: `status must be one of ${ID360_VERDICTS.join(', ')}; reason like VLD_VALIDATION_KO`,
              },
            });
        e.scenario = { status: p.data.status, reason: p.data.reason ?? null, lateStarted: p.data.lateStarted };
        if (p.data.document) e.document = p.data.document;
        ok = action === 'scenario' ? !FINAL.includes(e.status) : sandbox.complete(e);
        break;
      }
      case 'cancel':
        ok = sandbox.cancel(e);
        break;
      case 'expire':
        ok = sandbox.expire(e);
        break;
      case 'callbacks': {
        const p = z
          .object({ status: statusEnum.optional(), times: z.number().int().min(1).max(20).default(1) })
          .safeParse(body);
        if (!p.success)
          return reply.code(400).send({ error: { code: 'invalid_callbacks', message: p.error.issues[0]!.message } });
        sandbox.resend(e, p.data.status, p.data.times);
        ok = true;
        break;
      }
      default:
        return reply
          .code(404)
          .send({
            error: { code: 'unknown_action', message: 'actions: scenario, complete, cancel, expire, callbacks' },
          });
    }
    if (!ok)
      return reply
        .code(409)
        .send({
          error: {
            code: 'invalid_transition',
            message: `cannot ${action} an enrollment in status ${e.status}${e.finalized ? ' (finalized)' : ''}`,
          },
        });
    return { id: e.id, status: e.status, reason: e.reason, browser_callback_url: e.browserCallbackUrl };
  });

  app.get('/_sandbox/enrollments/:ref', async (req, reply) => {
    const e = findRef(req, reply);
    if (!e) return;
    return {
      id: e.id,
      status: e.status,
      reason: e.reason,
      clientReference: e.clientReference,
      selectedRoute: e.selectedRoute,
      consent: e.consent,
      comparisons: Object.fromEntries(Object.entries(e.comparisons).map(([k, c]) => [k, { locked: c.locked }])),
      totalPages: e.totalPages,
      pages: e.pages,
      selfie: e.selfie,
      finalized: e.finalized,
      reads: e.reads,
      scenario: e.scenario,
      stepsStatus: sandbox.stepsStatus(e),
      callbackDeliveries: sandbox.webhooks.log.filter((d) => d.tag === String(e.id)),
    };
  });

  app.get('/_sandbox/stats', async () => sandbox.stats);
  app.delete('/_sandbox/stats', async () => {
    sandbox.stats = emptyStats();
    return sandbox.stats;
  });
  app.post('/_sandbox/tokens/expire', async () => ({ expired: sandbox.expireTokens() }));
  app.post('/_sandbox/settings', async (req, reply) => {
    const p = z
      .object({
        callbacks: z.enum(['on', 'off']).optional(),
        reportDelayMs: z.number().int().min(0).max(3_600_000).optional(),
      })
      .safeParse(req.body);
    if (!p.success)
      return reply
        .code(400)
        .send({
          error: {
            code: 'invalid_settings',
            message: 'body: { "callbacks"?: "on" | "off", "reportDelayMs"?: number }',
          },
        });
    if (p.data.callbacks) sandbox.callbacksEnabled = p.data.callbacks === 'on';
    if (p.data.reportDelayMs !== undefined) sandbox.reportDelayMs = p.data.reportDelayMs;
    return { callbacks: sandbox.callbacksEnabled ? 'on' : 'off', reportDelayMs: sandbox.reportDelayMs };
  });
}

/** ID360's pages for the end user: reads the api_key from the fragment, as ID360's own UI does. */
function userPage(): string {
  const button = (action: string, label: string, status?: string) =>
    `<button onclick="act('${action}'${status ? `,'${status}'` : ''})">${label}</button>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>ID360 sandbox enrollment</title>
<style>body{font-family:system-ui;max-width:40rem;margin:3rem auto}button{margin:.3rem;padding:.5rem 1rem}</style></head>
<body><h1>ID360 sandbox</h1><p>Enrollment status: <b id="s">…</b></p>
<p>You are the end user. Do every step (route, consent, ID document, selfie, finalize) with one click:</p>
${button('complete', 'Complete: verdict OK', 'OK')}${button('complete', 'Complete: verdict KO', 'KO')}${button('complete', 'Complete: technical failure', 'FAILED')}<br>
${button('cancel', 'Cancel my enrollment')}
<p id="back"></p>
<script>
const key = (location.hash.match(/enrollment\\/([0-9a-f]+)/) || [])[1];
async function show(j){document.getElementById('s').textContent=j.status||(j.error&&j.error.message);
 if(j.browser_callback_url&&j.status!=='NEW'){document.getElementById('back').innerHTML='<a href="'+j.browser_callback_url+'">Back to the service</a>';}}
async function act(a,s){const r=await fetch('../../_sandbox/enrollments/'+key+'/'+a,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(s?{status:s}:{})});show(await r.json());}
fetch('../../_sandbox/enrollments/'+key).then(r=>r.json()).then(show);
</script></body></html>`;
}
