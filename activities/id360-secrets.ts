/**
 * The ID360 enrollment `api_key` is a bearer secret: whoever holds it can play the enrollment (upload
 * documents, finalize). It must never sit in plain workflow history, so the activities seal it the moment
 * ID360 hands it over and the workflow only ever carries the sealed form.
 *
 * Sealing is AES-256-GCM with a key derived (HKDF-SHA256) from WEBHOOK_SECRET for this one purpose, and the
 * verification id as associated data: a sealed key only opens for the verification it was made for, and a
 * tampered one does not open at all. When the payload-encryption codec arrives this stays useful: it also
 * keeps the key out of the API's responses and the browser link.
 *
 * Used by the activities (seal / open) and by the API's browser link (open), both of which hold the secret.
 */
import crypto from 'node:crypto';
import { keyById, signingKey, WEBHOOK_KEY_ID, type WebhookSecrets } from '../config/webhook-token';

/** `v1.<body>`: sealed with the key without id (WEBHOOK_SECRET); `v2.<kid>.<body>`: with that key of WEBHOOK_KEYS. */
const VERSION = 'v1';
const KEYED = 'v2';

function keyFor(secret: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, 'idv-orchestrator', 'id360 enrollment api_key', 32));
}

/** `v1.<base64url(iv | tag | ciphertext)>`, URL-safe. */
export function sealApiKey(secrets: WebhookSecrets, verificationId: string, apiKey: string): string {
  const key = signingKey(secrets);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', keyFor(key.secret), iv);
  cipher.setAAD(Buffer.from(verificationId));
  const ct = Buffer.concat([cipher.update(apiKey, 'utf8'), cipher.final()]);
  const body = Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
  return key.id ? `${KEYED}.${key.id}.${body}` : `${VERSION}.${body}`;
}

/** The api_key, or null when the sealed value is malformed, tampered with, or made for another verification. */
export function openApiKey(secrets: WebhookSecrets, verificationId: string, sealed: string): string | null {
  const parts = sealed.split('.');
  const [version] = parts;
  const kid =
    version === KEYED && parts.length === 3 && WEBHOOK_KEY_ID.test(parts[1]!)
      ? parts[1]!
      : version === VERSION && parts.length === 2
        ? ''
        : null;
  const body = parts.at(-1);
  const key = kid === null ? undefined : keyById(secrets, kid);
  if (!key || !body || !/^[A-Za-z0-9_-]+$/.test(body)) return null;
  const secret = key.secret;
  const raw = Buffer.from(body, 'base64url');
  if (raw.length < 12 + 16 + 1) return null;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', keyFor(secret), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(verificationId));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
