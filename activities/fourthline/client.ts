/**
 * What every Fourthline activity shares: the per-process access token, the authenticated call, the
 * evidence-store reads, and the status reads a step makes to learn whether an earlier, unanswered
 * call went through.
 */
import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { Context, log } from '@temporalio/activity';
import type { FourthlineConfig } from '../../config/vendors/fourthline-config';
import { fillPath } from '../endpoints';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import { callVendor, type VendorRequest, type VendorResponse } from '../http';
import {
  caseResponse,
  FOURTHLINE_API,
  signatureDetailsResponse,
  signatureStatusResponse,
  tokenResponse,
  type FourthlineCaseStatus,
  type FourthlineOperation,
  type FourthlineSignatureStatus,
} from './api';

const vendor = 'Fourthline';

export interface FourthlineCaseSummary {
  status: FourthlineCaseStatus;
  riskScore: number | null;
  statusCode: string | null;
}
export interface FourthlineSignatureSummary {
  status: FourthlineSignatureStatus;
  statusCode: string | null;
}

export interface FourthlineDeps {
  config: FourthlineConfig;
  store: EvidenceStore;
}

/**
 * The access token, cached per worker process: shared by concurrent activities (one fetch in
 * flight at a time), refreshed `refreshMarginMs` before it expires, dropped on a 401. It lives in
 * this process's memory only: never an activity input or result, so never in workflow history.
 */
export class FourthlineTokenCache {
  private current: { token: string; expiresAt: number } | null = null;
  private inflight: Promise<string> | null = null;
  /** How many tokens this process fetched (tests). */
  fetched = 0;

  constructor(
    private readonly fetchToken: () => Promise<{ token: string; expiresInMs: number }>,
    private readonly refreshMarginMs = 5 * 60_000,
    private readonly now = () => Date.now(),
  ) {}

  async get(): Promise<string> {
    if (this.current && this.current.expiresAt - this.refreshMarginMs > this.now()) return this.current.token;
    this.inflight ??= (async () => {
      try {
        const t = await this.fetchToken();
        this.fetched++;
        this.current = { token: t.token, expiresAt: this.now() + t.expiresInMs };
        return t.token;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** Forget a token the vendor refused, unless a newer one already replaced it. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = null;
  }
}

/** Whether this activity execution is a retry: the first attempt may have done the work. */
export const isRetry = (): boolean => Context.current().info.attempt > 1;

const errorCode = (body: unknown): string | undefined => {
  const c = (body as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
};

function failureDetails(err: unknown): { httpStatus?: number; vendorCode?: string | null } | undefined {
  return err instanceof ApplicationFailure
    ? (err.details?.[0] as { httpStatus?: number; vendorCode?: string | null } | undefined)
    : undefined;
}

/** One call of a documented operation: its method and filled path, with the rest of the request. */
type OperationRequest<T> = Omit<
  VendorRequest<T>,
  'vendor' | 'headers' | 'errorCode' | 'operation' | 'method' | 'url'
> & {
  /** Appended to the path as is (already encoded), e.g. `?language=fr`. */
  query?: string;
};

export function fourthlineClient({ config, store }: FourthlineDeps) {
  const base = config.baseUrl;

  const tokens = new FourthlineTokenCache(async () => {
    const { body } = await callVendor({
      vendor,
      operation: 'createAccessToken',
      method: FOURTHLINE_API.createAccessToken.method,
      url: `${base}${config.tokenPath}`,
      json: { grant_type: 'client_credentials', client_id: config.clientId, client_secret: config.clientSecret },
      schema: tokenResponse,
      errorCode,
    });
    return { token: body.access_token, expiresInMs: (body.expires_in ?? 3600) * 1000 };
  });

  /** A call with the bearer token; a 401 drops the cached token and retries once with a fresh one. */
  async function call<T>(
    operation: FourthlineOperation,
    params: Record<string, string>,
    req: OperationRequest<T> = {},
  ): Promise<VendorResponse<T>> {
    const { query = '', ...rest } = req;
    const { method, path } = FOURTHLINE_API[operation];
    const url = `${base}${fillPath(path, params)}${query}`;
    for (let attempt = 1; ; attempt++) {
      const token = await tokens.get();
      try {
        return await callVendor<T>({
          ...rest,
          vendor,
          operation,
          method,
          url,
          headers: { authorization: `Bearer ${token}` },
          errorCode,
        });
      } catch (err) {
        if (attempt === 1 && failureDetails(err)?.httpStatus === 401) {
          log.info('Fourthline token refused, fetching a new one', { operation });
          tokens.invalidate(token);
          continue;
        }
        throw err;
      }
    }
  }

  async function readBytes(ref: EvidenceRef): Promise<Buffer> {
    const bytes = await store.get(ref.sha256);
    if (!bytes)
      throw ApplicationFailure.nonRetryable(
        `evidence ${ref.kind} ${ref.sha256.slice(0, 12)} is not in the store`,
        'EvidenceMissing',
      );
    return bytes;
  }
  async function readJson<T>(ref: EvidenceRef, schema: z.ZodType<T>): Promise<T> {
    const bytes = await readBytes(ref);
    return schema.parse(JSON.parse(bytes.toString('utf8')));
  }

  async function getCase(verificationId: string): Promise<FourthlineCaseSummary> {
    const { body } = await call('getCase', { id: verificationId }, { schema: caseResponse });
    return { status: body.status, riskScore: body.riskScore ?? null, statusCode: body.statusCode ?? null };
  }

  async function signatureStatus(signatureId: string): Promise<FourthlineSignatureSummary> {
    const { body } = await call('getSignatureStatus', { id: signatureId }, { schema: signatureStatusResponse });
    return { status: body.status, statusCode: body.statusCode ?? null };
  }

  async function signatureDetails(signatureId: string, query = '') {
    const { body } = await call(
      'getSignatureDetails',
      { id: signatureId },
      { schema: signatureDetailsResponse, query },
    );
    return body;
  }

  /**
   * After a 422 INVALID_STATUS on a step's call: the signature's status when it has moved past `step` (the
   * step went through on an earlier, unanswered call), else null.
   */
  async function movedOnAfter(
    err: unknown,
    signatureId: string,
    step: FourthlineSignatureStatus,
  ): Promise<FourthlineSignatureSummary | null> {
    const d = failureDetails(err);
    if (d?.httpStatus !== 422 || d.vendorCode !== 'INVALID_STATUS') return null;
    const now = await signatureStatus(signatureId);
    return now.status !== step ? now : null;
  }

  return { call, readBytes, readJson, getCase, signatureStatus, signatureDetails, movedOnAfter };
}

export type FourthlineClient = ReturnType<typeof fourthlineClient>;
