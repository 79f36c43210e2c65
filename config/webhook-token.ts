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
