/**
 * What every ID360 activity shares: the endpoint URLs, the api_key opened from its sealed form, the
 * evidence-store reads, and how an answer lost on an earlier attempt is recognised.
 */
import { ApplicationFailure } from '@temporalio/common';
import { activityInfo } from '@temporalio/activity';
import { fillPath } from '../endpoints';
import { callVendor, type VendorRequest } from '../http';
import type { EvidenceRef } from '../evidence-types';
import { httpStatusOf, id360ErrorCode } from '../id360-session';
import { openApiKey } from '../id360-secrets';
import { ID360_API } from './api';
import type { Id360Deps, Id360EnrollmentRef } from './types';

export const vendor = 'ID360';

/** Browser mode: our link that 302s to ID360's pages; it carries the sealed api_key, opened only by our API. */
export function id360UserLink(publicBaseUrl: string, workflowId: string, sealedApiKey: string): string {
  return `${publicBaseUrl}/go/id360/${encodeURIComponent(workflowId)}/${sealedApiKey}`;
}

/** ID360's own pages for the user, as its UI addresses an enrollment: by api_key, in the fragment. */
export function id360VendorUserUrl(baseUrl: string, apiKey: string): string {
  return `${baseUrl}/static/process_ui/index.html#/enrollment/${apiKey}`;
}

export const vendorCodeOf = (err: unknown): string | undefined =>
  err instanceof ApplicationFailure ? (err.details?.[0] as { vendorCode?: string } | undefined)?.vendorCode : undefined;

export function id360Context({ config, store, webhookSecret }: Id360Deps) {
  /** The URL of an operation: host root + its path, filled, + an already-encoded query string. */
  const url = (op: keyof typeof ID360_API, params: Record<string, string | number> = {}, query = ''): string =>
    `${config.baseUrl}${fillPath(ID360_API[op].path, params)}${query}`;

  /**
   * One ID360 operation: its method and path from the endpoint table (path parameters and an
   * already-encoded query filled in), named by its key unless `operation` says more, with ID360's error codes.
   */
  const request = <T = Buffer>(
    op: keyof typeof ID360_API,
    req: Omit<VendorRequest<T>, 'vendor' | 'method' | 'url' | 'errorCode' | 'operation'> & {
      operation?: string;
      params?: Record<string, string | number>;
      query?: string;
    },
  ) => {
    const { params, query, operation = op, ...rest } = req;
    return callVendor<T>({
      vendor,
      operation,
      method: ID360_API[op].method,
      url: url(op, params, query),
      errorCode: id360ErrorCode,
      ...rest,
    });
  };

  /** The api_key for an x-api-key call; a sealed value that does not open is a bug, not a vendor problem. */
  const apiKeyOf = (e: Id360EnrollmentRef): string => {
    const key = openApiKey(webhookSecret, e.workflowId, e.sealedApiKey);
    if (!key)
      throw ApplicationFailure.nonRetryable(
        'ID360: the sealed api_key does not open for this verification',
        'Id360SealedKeyInvalid',
      );
    return key;
  };

  /** A 409 with this code on a retry attempt: our earlier attempt went through and only its answer was lost. */
  const alreadyDoneOnRetry = (err: unknown, code: string): boolean =>
    activityInfo().attempt > 1 && httpStatusOf(err) === 409 && vendorCodeOf(err) === code;

  /**
   * The report exists "only after the final callback" (doc): a verdict found by polling can be a moment
   * ahead of it. ID360's 409 then means "not yet", so Temporal retries (backoff, within the activity's
   * schedule-to-close) instead of failing the verification.
   */
  const reportNotReadyIsRetryable = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (httpStatusOf(err) !== 409 || vendorCodeOf(err) !== 'REPORT_NOT_AVAILABLE') throw err;
      throw ApplicationFailure.retryable(`ID360 ${operation}: the report is not available yet`, 'Id360ReportNotReady');
    }
  };

  const bytesOf = async (ref: EvidenceRef): Promise<Buffer> => {
    const bytes = await store.get(ref.sha256);
    if (!bytes)
      throw ApplicationFailure.nonRetryable(
        `the ${ref.kind} ${ref.sha256.slice(0, 12)} is not in the evidence store`,
        'EvidenceMissing',
      );
    return bytes;
  };

  /** One page (or the selfie) as raw bytes with its own content type. */
  const upload = async (
    e: Id360EnrollmentRef,
    operation: 'uploadDocumentPage' | 'uploadSelfie',
    totalPages: number,
    page: number,
    ref: EvidenceRef,
  ) => {
    await request(operation, {
      query: `?total_pages=${totalPages}&uploaded_page=${page}`,
      headers: { accept: '*/*', 'x-api-key': apiKeyOf(e), 'content-type': ref.contentType },
      body: await bytesOf(ref),
      timeoutMs: 60_000,
    });
  };

  return { request, apiKeyOf, alreadyDoneOnRetry, reportNotReadyIsRetryable, upload };
}

export type Id360Context = ReturnType<typeof id360Context>;
