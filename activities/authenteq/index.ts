/**
 * Authenteq Web IDV calls (../shared/vendor-docs/authenteq-web-idv.txt).
 *
 * The API they call (endpoints, headers, the result schema, error codes, assumptions beyond the doc) is
 * described in ./api.ts, shared with sandboxes/authenteq.
 *
 * Idempotency: the exchange spends the one-time code, so it cannot simply be repeated.
 * Just before the raw answer is stored, a small receipt is stored (kind
 * `authenteq-exchange-receipt`: session, SHA-256 of the code, SHA-256 of the raw answer; claimed by the
 * verification, so erased with it). A later attempt with the same session and code (the worker died
 * after the answer, the activity timed out) finds the receipt and rebuilds the summary from the stored
 * raw answer instead of spending the code again and reporting `lost-after-success`. An answer lost
 * before it was stored (connection reset) is still `lost-after-success`: Authenteq has no look-up.
 * Auth: HTTP Basic with the client id and secret of the config, added here and only here: the secret
 * is never in an activity input or result (so never in history), never logged, never sent to a browser.
 * Errors `{ errorCode, errorMessage }`: a 400 that names a parameter is reported as `<errorCode>:<parameter>`
 * (e.g. `INVALID_REQUEST_PARAMETER:code`), so the workflow can tell a spent code from a redirect URL mismatch.
 *
 * Assumptions beyond the doc:
 * - The registered redirect URL may carry a query string. We send `<AUTHENTEQ_REDIRECT_URL>?state=<signed>`
 *   (config/webhook-token.ts: verification id + session number, HMAC with WEBHOOK_SECRET), Authenteq adds
 *   `code`, and our `/return/authenteq` receiver finds the verification from the state alone, without
 *   trusting the browser or any session. The exchange repeats that exact redirectUrl string, as the doc asks.
 *   (An account that compared the query too would need the integrator's own session to carry the
 *   verification id instead: not built.)
 * - An exchange 400 whose body we cannot read (some of the doc's error bodies are not valid JSON) is
 *   taken as a refused code (the workflow says so in its reason).
 */
import crypto from 'node:crypto';
import { keyById, type WebhookSecrets } from '../../config/webhook-token';
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import type { AuthenteqConfig } from '../../config/vendors/authenteq-config';
import { encodeReturnState } from '../../config/webhook-token';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import { callVendor, FAILURE_TYPES } from '../http';
import {
  AUTHENTEQ_API,
  AUTHENTEQ_HEADERS,
  authenteqResultSchema,
  verificationUrlResponse,
  type binaryContent,
} from './api';

export { authenteqResultSchema } from './api';

/** What the workflow sees of a result: the decision and non-identifying facts, plus evidence references. */
export interface AuthenteqResultSummary {
  /** Authenteq's id of the identity verification. */
  verificationId: string;
  /** PASSED / FAILED (or another code-like word; anything else is reported as UNRECOGNIZED). */
  status: string;
  nfcVerified: boolean;
  /** One per scanned document (documentData, documentData2, documentData3): type and issuing country only. */
  documents: { documentType: string; issuingCountry: string }[];
  /** The raw result JSON, the liveness face, each document's images and the address proof. */
  evidence: EvidenceRef[];
}

export interface AuthenteqSessionInput {
  workflowId: string;
  /** The session within the verification: 1, then 2... after each restart. */
  session: number;
  returnTo: string | null;
  /** The webhook key that signed this session's state (after a rotation, not the current one): the exchange repeats that URL. */
  keyId?: string;
}

export interface AuthenteqDeps {
  config: AuthenteqConfig;
  store: EvidenceStore;
  webhookSecret: WebhookSecrets;
}

/** `MISSING_REQUEST_PARAMETER:code`, `INVALID_REQUEST_PARAMETER:redirectUrl`, `ACCOUNT_DEACTIVATED`... */
const errorCode = (body: unknown): string | undefined => {
  const b = body as { errorCode?: unknown; errorMessage?: unknown } | null;
  if (typeof b?.errorCode !== 'string') return undefined;
  const parameter = typeof b.errorMessage === 'string' ? /'([A-Za-z]+)'/.exec(b.errorMessage)?.[1] : undefined;
  return parameter ? `${b.errorCode}:${parameter}` : b.errorCode;
};

/** Only short code-like words leave the activity as facts (they are not personal data). */
const codeLike = (s: string): string => (/^[A-Za-z0-9_-]{1,16}$/.test(s) ? s : 'UNRECOGNIZED');

export function createAuthenteqActivities({ config, store, webhookSecret }: AuthenteqDeps) {
  const vendor = 'Authenteq';
  const authorization = `Basic ${Buffer.from(`${config.clientId}:${config.clientSecret}`).toString('base64')}`;

  /** Our registered redirect URL with the signed state of this session (deterministic: the exchange repeats it). */
  const redirectUrlFor = (s: AuthenteqSessionInput): string => {
    const url = new URL(config.redirectUrl);
    // OAuth-style: the exchange must name the very redirect URL the session was opened with, so the state is
    // signed again with the key that signed it then (named by the browser's state), not the current one.
    const key = s.keyId !== undefined ? keyById(webhookSecret, s.keyId) : undefined;
    const { keyId: _kid, ...state } = s;
    url.searchParams.set('state', encodeReturnState(key ? [key] : webhookSecret, 'authenteq', state));
    return url.toString();
  };

  const activities = {
    async authenteqGetVerificationUrl(
      input: AuthenteqSessionInput & { multiDocument: boolean; flowSlug: string | null },
    ): Promise<{ verificationUrl: string }> {
      const url = new URL(`${config.baseUrl}${AUTHENTEQ_API.getVerificationUrl.path}`);
      url.searchParams.set('redirectUrl', redirectUrlFor(input));
      const { body } = await callVendor({
        vendor,
        operation: 'getVerificationUrl',
        method: AUTHENTEQ_API.getVerificationUrl.method,
        url: url.toString(),
        headers: {
          authorization,
          ...(input.multiDocument ? { [AUTHENTEQ_HEADERS.multiDocumentFlow]: 'On' } : {}),
          ...(input.flowSlug ? { [AUTHENTEQ_HEADERS.flowSlug]: input.flowSlug } : {}),
        },
        schema: verificationUrlResponse,
        errorCode,
      });
      log.info('Authenteq verification URL issued', { workflowId: input.workflowId, session: input.session });
      return { verificationUrl: body.verificationUrl };
    },

    /**
     * One exchange of the one-time code (the workflow decides about retries: a lost answer may have
     * spent the code). The raw answer goes to the evidence store before anything else, so that a
     * result that fails validation is still kept.
     */
    async authenteqExchangeCode(input: AuthenteqSessionInput & { code: string }): Promise<AuthenteqResultSummary> {
      const codeSha256 = crypto.createHash('sha256').update(input.code).digest('hex');
      const earlier = await storedExchange(input.workflowId, input.session, codeSha256);
      if (earlier) {
        log.info('Authenteq result already exchanged by an earlier attempt: read from the store', {
          workflowId: input.workflowId,
          session: input.session,
        });
        return summarize(input, earlier.raw, earlier.rawRef);
      }
      const url = new URL(`${config.baseUrl}${AUTHENTEQ_API.getResult.path}`);
      url.searchParams.set('redirectUrl', redirectUrlFor(input));
      url.searchParams.set('code', input.code);
      const { raw } = await callVendor({
        vendor,
        operation: 'getResult',
        method: AUTHENTEQ_API.getResult.method,
        url: url.toString(),
        headers: { authorization },
        errorCode,
      });
      // The receipt first, then the raw answer: once the raw answer is in the store, a retry finds it.
      const receipt: ExchangeReceipt = {
        session: input.session,
        codeSha256,
        rawSha256: crypto.createHash('sha256').update(raw).digest('hex'),
      };
      await store.put(RECEIPT_KIND, 'application/json', Buffer.from(JSON.stringify(receipt)));
      const rawRef = await store.put('authenteq-result-json', 'application/json', raw);
      return summarize(input, raw, rawRef);
    },
  };

  /** The receipt of an earlier exchange of this code in this session, with its raw answer (re-put: same ref). */
  async function storedExchange(
    owner: string,
    session: number,
    codeSha256: string,
  ): Promise<{ raw: Buffer; rawRef: EvidenceRef } | null> {
    for (const claim of await store.claims({ owner })) {
      if (claim.kind !== RECEIPT_KIND) continue;
      const bytes = await store.get(claim.sha256);
      const parsed = bytes ? receiptSchema.safeParse(JSON.parse(bytes.toString('utf8'))) : null;
      if (!parsed?.success || parsed.data.session !== session || parsed.data.codeSha256 !== codeSha256) continue;
      const raw = await store.get(parsed.data.rawSha256);
      if (!raw) continue;
      return { raw, rawRef: await store.put('authenteq-result-json', 'application/json', raw) };
    }
    return null;
  }

  async function summarize(
    input: AuthenteqSessionInput,
    raw: Buffer,
    rawRef: EvidenceRef,
  ): Promise<AuthenteqResultSummary> {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw invalid('the body is not JSON', rawRef);
    }
    const parsed = authenteqResultSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw invalid(`field "${issue.path.join('.') || '(body)'}": ${issue.message}`, rawRef);
    }
    const r = parsed.data;

    const evidence: EvidenceRef[] = [rawRef];
    const keep = async (kind: string, b: z.infer<typeof binaryContent> | null | undefined) => {
      if (!b?.content) return;
      const type = /^[a-z]+\/[a-z0-9.+-]{1,80}$/i.test(b.contentType) ? b.contentType : 'application/octet-stream';
      evidence.push(await store.put(kind, type, Buffer.from(b.content, 'base64')));
    };
    await keep('authenteq-liveness-face', r.livenessFaceImage);
    const docs = [r.documentData, r.documentData2, r.documentData3];
    const documents: AuthenteqResultSummary['documents'] = [];
    for (const [i, d] of docs.entries()) {
      if (!d) continue;
      const n = i + 1;
      documents.push({ documentType: codeLike(d.documentType), issuingCountry: codeLike(d.issuingCountry) });
      await keep(`authenteq-document${n}-front`, d.croppedFrontImage);
      await keep(`authenteq-document${n}-back`, d.croppedBackImage);
      await keep(`authenteq-document${n}-face`, d.faceImage);
    }
    await keep('authenteq-address-proof', r.addressProofDocument);

    log.info('Authenteq result stored', {
      workflowId: input.workflowId,
      status: codeLike(r.status),
      evidence: evidence.length,
    });
    return { verificationId: r.id, status: codeLike(r.status), nfcVerified: r.nfcVerified, documents, evidence };
  }

  return activities;
}

const RECEIPT_KIND = 'authenteq-exchange-receipt';
const receiptSchema = z.object({ session: z.number(), codeSha256: z.string(), rawSha256: z.string() });
type ExchangeReceipt = z.infer<typeof receiptSchema>;

function invalid(problem: string, rawRef: EvidenceRef): ApplicationFailure {
  return ApplicationFailure.create({
    message: `Authenteq getResult: unexpected response, ${problem}`,
    type: FAILURE_TYPES.invalidResponse,
    nonRetryable: true,
    // The raw answer is kept: the workflow lists it as evidence even though it could not read it.
    details: [{ vendor: 'Authenteq', operation: 'getResult', evidence: rawRef }],
  });
}

export type AuthenteqActivities = ReturnType<typeof createAuthenteqActivities>;
