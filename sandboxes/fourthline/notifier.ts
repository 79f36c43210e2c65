/**
 * Fourthline's webhook deliveries. The bodies are thin (an id, a status, a timestamp); Fourthline
 * authenticates to the receiver with HTTP Basic, or with a bearer token it first obtains from the
 * receiver's token URL (OAuth client credentials: a form post, client id and secret in HTTP Basic).
 */
import got from 'got';
import type { WebhookDispatcher } from '../framework/webhooks';
import type { WebhookAuth } from './types';

export class FourthlineNotifier {
  private oauth: { token: string; until: number } | null = null;
  private pending = new Set<Promise<unknown>>();

  constructor(
    private readonly webhooks: WebhookDispatcher,
    private readonly auth: () => WebhookAuth,
  ) {}

  deliver(url: string, body: Record<string, unknown>, tag: string): void {
    const p = this.authHeader()
      .then((authorization) =>
        this.webhooks.send(url, body, { event: String(body.status), tag, headers: { authorization } }),
      )
      .catch(() =>
        this.webhooks.log.push({
          at: new Date().toISOString(),
          url,
          event: String(body.status),
          tag,
          attempt: 0,
          status: null,
          error: 'no OAuth token from the receiver',
        }),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits for every delivery handed to the dispatcher (the token fetch included). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** How Fourthline authenticates to our receiver: HTTP Basic, or a bearer token from our token URL. */
  private async authHeader(): Promise<string> {
    const a = this.auth();
    if (a.mode === 'basic') return `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    if (this.oauth && this.oauth.until > Date.now() + 5000) return `Bearer ${this.oauth.token}`;
    const res = await got.post(a.tokenUrl, {
      form: { grant_type: 'client_credentials' },
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(a.clientId)}:${encodeURIComponent(a.clientSecret)}`).toString('base64')}`,
      },
      responseType: 'json',
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: 10_000 },
    });
    const b = res.body as { access_token?: string; expires_in?: number };
    if (res.statusCode !== 200 || !b.access_token) {
      // Fourthline still sends the notification; the receiver will refuse it.
      return 'Bearer none';
    }
    this.oauth = { token: b.access_token, until: Date.now() + (b.expires_in ?? 300) * 1000 };
    return `Bearer ${b.access_token}`;
  }
}
