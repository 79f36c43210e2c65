/**
 * Per-verification webhook tokens for vendors that document no webhook authentication (Finwave).
 * The webhook URL we give the vendor ends in HMAC-SHA256(secret, provider + workflowId): unguessable
 * without WEBHOOK_SECRET, checkable by the receiver without any stored state.
 */
import crypto from 'node:crypto';

export function webhookToken(secret: string, provider: string, workflowId: string): string {
  return crypto.createHmac('sha256', secret).update(`${provider}\n${workflowId}`).digest('base64url');
}

export function verifyWebhookToken(secret: string, provider: string, workflowId: string, token: string): boolean {
  const expected = Buffer.from(webhookToken(secret, provider, workflowId));
  const given = Buffer.from(token);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

export function webhookUrl(publicBaseUrl: string, secret: string, provider: string, workflowId: string): string {
  const token = webhookToken(secret, provider, workflowId);
  return `${publicBaseUrl}/webhooks/${provider}/${encodeURIComponent(workflowId)}/${token}`;
}

/**
 * Signed state for browser returns (`/return/<provider>/...`): the URL we hand a vendor for the
 * user's way back carries `<base64url(data)>.<HMAC-SHA256(secret, "state", provider, data)>`, so a
 * receiver knows which verification the browser belongs to without stored state and without
 * trusting the browser. The data is not encrypted: put ids in it, never personal data.
 */
export function signState(secret: string, provider: string, data: string): string {
  const payload = Buffer.from(data, 'utf8').toString('base64url');
  return `${payload}.${stateMac(secret, provider, data)}`;
}

/** The data of a state made by `signState` for this provider, or null when it is not one. */
export function readSignedState(secret: string, provider: string, state: string): string | null {
  const m = /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(state);
  if (!m) return null;
  const data = Buffer.from(m[1]!, 'base64url').toString('utf8');
  const expected = Buffer.from(stateMac(secret, provider, data));
  const given = Buffer.from(m[2]!);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected) ? data : null;
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
}

export function encodeReturnState(secret: string, provider: string, s: ReturnState): string {
  return signState(secret, provider, JSON.stringify(s.returnTo ? [s.workflowId, s.session, s.returnTo] : [s.workflowId, s.session]));
}

export function decodeReturnState(secret: string, provider: string, token: string): ReturnState | null {
  const data = readSignedState(secret, provider, token);
  if (data === null) return null;
  try {
    const [workflowId, session, returnTo] = JSON.parse(data) as [unknown, unknown, unknown];
    if (typeof workflowId !== 'string' || !Number.isInteger(session)) return null;
    return { workflowId, session: session as number, returnTo: typeof returnTo === 'string' ? returnTo : null };
  } catch {
    return null;
  }
}
