/**
 * Per-verification webhook tokens for vendors that document no webhook authentication (a vendor
 * contract's `routes.webhooks.auth: 'url-token'`, config/vendors/contract.ts).
 * The webhook URL we give the vendor ends in HMAC-SHA256(secret, provider + workflowId): unguessable
 * without WEBHOOK_SECRET, checkable by the receiver without any stored state.
 */
import crypto from 'node:crypto';

/**
 * The keyring behind every token below (WEBHOOK_KEYS, like PAYLOAD_KEYS): the first key signs, every
 * listed key verifies, and a token names the key that signed it (`<kid>.` before the MAC). A plain
 * string is the single WEBHOOK_SECRET of before: a key without id, whose tokens carry none.
 */
export interface WebhookKey {
  /** Empty for the WEBHOOK_SECRET of before (its tokens name no key). */
  id: string;
  secret: string;
}
export type WebhookSecrets = string | readonly WebhookKey[];

export const WEBHOOK_KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export function webhookKeys(s: WebhookSecrets): readonly WebhookKey[] {
  return typeof s === 'string' ? [{ id: '', secret: s }] : s;
}

/** The key that signs now. */
export function signingKey(s: WebhookSecrets): WebhookKey {
  const key = webhookKeys(s)[0];
  if (!key) throw new Error('the webhook keyring is empty');
  return key;
}

/** The key a token names (`kid`), or the key without id for a token that names none. */
export function keyById(s: WebhookSecrets, kid: string | undefined): WebhookKey | undefined {
  return webhookKeys(s).find((k) => k.id === (kid ?? ''));
}

const withKid = (key: WebhookKey, mac: string) => (key.id ? `${key.id}.${mac}` : mac);

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function tokenMac(secret: string, provider: string, workflowId: string): string {
  return crypto.createHmac('sha256', secret).update(`${provider}\n${workflowId}`).digest('base64url');
}

export function webhookToken(secrets: WebhookSecrets, provider: string, workflowId: string): string {
  const key = signingKey(secrets);
  return withKid(key, tokenMac(key.secret, provider, workflowId));
}

export function verifyWebhookToken(
  secrets: WebhookSecrets,
  provider: string,
  workflowId: string,
  token: string,
): boolean {
  const m = /^(?:([A-Za-z0-9_-]{1,32})\.)?([A-Za-z0-9_-]{43})$/.exec(token);
  const key = m && keyById(secrets, m[1]);
  return Boolean(key && equal(tokenMac(key.secret, provider, workflowId), m[2]!));
}

export function webhookUrl(
  publicBaseUrl: string,
  secret: WebhookSecrets,
  provider: string,
  workflowId: string,
): string {
  const token = webhookToken(secret, provider, workflowId);
  return `${publicBaseUrl}/webhooks/${provider}/${encodeURIComponent(workflowId)}/${token}`;
}

/**
 * Signed state for browser returns (`/return/<provider>/...`): the URL we hand a vendor for the
 * user's way back carries `<base64url(data)>.<HMAC-SHA256(secret, "state", provider, data)>`, so a
 * receiver knows which verification the browser belongs to without stored state and without
 * trusting the browser. The data is not encrypted: put ids in it, never personal data.
 */
export function signState(secrets: WebhookSecrets, provider: string, data: string): string {
  const key = signingKey(secrets);
  const payload = Buffer.from(data, 'utf8').toString('base64url');
  return `${payload}.${withKid(key, stateMac(key.secret, provider, data))}`;
}

/** The data of a state made by `signState` for this provider (with any listed key), or null when it is not one. */
export function readSignedState(secrets: WebhookSecrets, provider: string, state: string): string | null {
  const m = /^([A-Za-z0-9_-]{1,2000})\.(?:([A-Za-z0-9_-]{1,32})\.)?([A-Za-z0-9_-]{43})$/.exec(state);
  const key = m && keyById(secrets, m[2]);
  if (!m || !key) return null;
  const data = Buffer.from(m[1]!, 'base64url').toString('utf8');
  return equal(stateMac(key.secret, provider, data), m[3]!) ? data : null;
}

function stateMac(secret: string, provider: string, data: string): string {
  return crypto.createHmac('sha256', secret).update(`state\n${provider}\n${data}`).digest('base64url');
}

/** What a browser-return state names: the verification, the vendor session within it, where to send the browser. */
export interface ReturnState {
  workflowId: string;
  /** The vendor session within the verification (1, 2... when a flow is restarted). */
  session: number;
  /** The integrator's page to send the browser to afterwards (set at create time by our caller). */
  returnTo: string | null;
  /** Decoded states only: the key that signed it ('' for the WEBHOOK_SECRET of before). */
  keyId?: string;
}

export function encodeReturnState(secret: WebhookSecrets, provider: string, s: ReturnState): string {
  return signState(
    secret,
    provider,
    JSON.stringify(s.returnTo ? [s.workflowId, s.session, s.returnTo] : [s.workflowId, s.session]),
  );
}

export function decodeReturnState(secret: WebhookSecrets, provider: string, token: string): ReturnState | null {
  const data = readSignedState(secret, provider, token);
  if (data === null) return null;
  try {
    const [workflowId, session, returnTo] = JSON.parse(data) as [unknown, unknown, unknown];
    if (typeof workflowId !== 'string' || !Number.isInteger(session)) return null;
    const keyId = /^[A-Za-z0-9_-]+\.(?:([A-Za-z0-9_-]{1,32})\.)?[A-Za-z0-9_-]{43}$/.exec(token)?.[1] ?? '';
    return { workflowId, session: session as number, returnTo: typeof returnTo === 'string' ? returnTo : null, keyId };
  } catch {
    return null;
  }
}
