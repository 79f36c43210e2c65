/**
 * The Authenteq sandbox's model: the account (registered redirect URLs, keys, deactivation), the
 * verification sessions the user plays, and the one-time codes exchanged for results. The HTTP surface
 * is in ./routes.ts.
 */
import crypto from 'node:crypto';
import { FaultInjector } from '../framework/faults';
import { Ledger } from '../framework/ledger';
import { fakeResult, type AuthenteqPassOptions } from './documents';

export type SessionStatus = 'OPEN' | 'LEFT' | 'PASSED' | 'FAILED';

export interface Session {
  token: string;
  redirectUrl: string;
  multiDocument: boolean;
  flowSlug: string | null;
  status: SessionStatus;
  code: string | null;
  codeIssuedAt: number | null;
  codeUsed: boolean;
  result: Record<string, unknown> | null;
  createdAt: number;
}

export interface AuthenteqExchange {
  at: string;
  /** The session the code belonged to, when it was one of ours. */
  token: string | null;
  status: number;
  errorCode?: string;
}

export interface AuthenteqSandboxOptions {
  clientId: string;
  clientSecret: string;
  /** The sandbox's own public base URL (for the verification URL it hands out). */
  publicUrl: string;
  /** Redirect URLs registered in the "Customer Dashboard". */
  redirectUrls: string[];
  codeTtlMs?: number;
}

export class AuthenteqSandbox {
  readonly sessions = new Map<string, Session>();
  /** Side effects applied (framework/ledger.ts). */
  readonly ledger = new Ledger();
  private readonly codes = new Map<string, string>();
  readonly exchanges: AuthenteqExchange[] = [];
  readonly faults = new FaultInjector((_status, code, message) => ({ errorCode: code, errorMessage: message }));
  readonly account: { clientId: string; clientSecret: string; redirectUrls: string[]; deactivated: boolean };
  codeTtlMs: number;

  constructor(readonly options: AuthenteqSandboxOptions) {
    this.account = {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      redirectUrls: [...options.redirectUrls],
      deactivated: false,
    };
    this.codeTtlMs = options.codeTtlMs ?? 10 * 60_000;
  }

  open(redirectUrl: string, multiDocument: boolean, flowSlug: string | null): Session {
    const s: Session = {
      token: crypto.randomBytes(18).toString('base64url'),
      redirectUrl,
      multiDocument,
      flowSlug,
      status: 'OPEN',
      code: null,
      codeIssuedAt: null,
      codeUsed: false,
      result: null,
      createdAt: Date.now(),
    };
    this.sessions.set(s.token, s);
    this.ledger.record('session-opened', s.token);
    return s;
  }

  verificationUrl(s: Session): string {
    return `${this.options.publicUrl}/authenteq/verify?token=${s.token}`;
  }

  isRegistered(redirectUrl: string): boolean {
    const key = (u: string) => {
      try {
        const url = new URL(u);
        return `${url.protocol}//${url.host}${url.pathname}`;
      } catch {
        return null;
      }
    };
    const given = key(redirectUrl);
    return given !== null && this.account.redirectUrls.some((r) => key(r) === given);
  }

  /** The user finishes; answers where the browser is sent (the redirect URL with a one-time code). */
  complete(s: Session, status: 'PASSED' | 'FAILED', opts: AuthenteqPassOptions = {}): string | null {
    if (s.status !== 'OPEN') return null;
    s.status = status;
    s.result = fakeResult(status, s.multiDocument ? (opts.documents ?? 2) : 1, opts);
    s.code = crypto.randomBytes(24).toString('base64url');
    s.codeIssuedAt = Date.now();
    this.codes.set(s.code, s.token);
    const url = new URL(s.redirectUrl);
    url.searchParams.set('code', s.code);
    return url.toString();
  }

  /** The user leaves: back to the redirect URL without a code. */
  leave(s: Session): string | null {
    if (s.status !== 'OPEN') return null;
    s.status = 'LEFT';
    return s.redirectUrl;
  }

  /** One exchange of a code; consumes it when it succeeds. */
  exchange(
    code: string,
    redirectUrl: string,
  ): { status: 200; body: Record<string, unknown> } | { status: 400; errorCode: string; errorMessage: string } {
    const token = this.codes.get(code) ?? null;
    const s = token ? this.sessions.get(token) : undefined;
    const record = (status: number, errorCode?: string) =>
      this.exchanges.push({ at: new Date().toISOString(), token, status, ...(errorCode ? { errorCode } : {}) });
    if (!s || s.codeUsed || !s.result || Date.now() - (s.codeIssuedAt ?? 0) > this.codeTtlMs) {
      record(400, 'INVALID_REQUEST_PARAMETER');
      return {
        status: 400,
        errorCode: 'INVALID_REQUEST_PARAMETER',
        errorMessage: "Parameter 'code' is invalid or expired",
      };
    }
    if (redirectUrl !== s.redirectUrl) {
      record(400, 'INVALID_REQUEST_PARAMETER');
      return {
        status: 400,
        errorCode: 'INVALID_REQUEST_PARAMETER',
        errorMessage: "Parameter 'redirectUrl' does not match the given authorization code",
      };
    }
    s.codeUsed = true;
    this.ledger.record('code-exchanged', s.token, s.token);
    record(200);
    return { status: 200, body: s.result };
  }
}
