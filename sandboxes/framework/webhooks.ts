/**
 * Webhook delivery as vendors do it: POST to the registered URL, retried with backoff until a 2xx
 * or the attempts run out. Every attempt is kept in a log that the control surface shows.
 */
import got from 'got';

export interface DeliveryAttempt {
  at: string;
  url: string;
  event: string;
  /** Whatever the sandbox files the delivery under (e.g. the onboarding id). */
  tag: string;
  attempt: number;
  status: number | null;
  error?: string;
}

export interface WebhookOptions {
  /** Attempts per notification (first try included). */
  maxAttempts: number;
  /** Delay before the 2nd attempt; doubles after each failure. */
  firstRetryMs: number;
}

export class WebhookDispatcher {
  readonly log: DeliveryAttempt[] = [];
  private inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: WebhookOptions = { maxAttempts: 6, firstRetryMs: 1000 }) {}

  /** Fire and forget: returns at once, delivery goes on in the background. */
  send(
    url: string,
    body: Record<string, unknown>,
    opts: { event: string; tag: string; headers?: Record<string, string> },
  ): void {
    const p = this.deliver(url, body, opts).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliver(
    url: string,
    body: Record<string, unknown>,
    opts: { event: string; tag: string; headers?: Record<string, string> },
  ): Promise<void> {
    let delay = this.options.firstRetryMs;
    for (let attempt = 1; attempt <= this.options.maxAttempts && !this.stopped; attempt++) {
      const entry: DeliveryAttempt = {
        at: new Date().toISOString(),
        url: redact(url),
        event: opts.event,
        tag: opts.tag,
        attempt,
        status: null,
      };
      this.log.push(entry);
      if (this.log.length > 1000) this.log.shift();
      try {
        const res = await got.post(url, {
          json: body,
          headers: opts.headers,
          throwHttpErrors: false,
          retry: { limit: 0 },
          timeout: { request: 10_000 },
        });
        entry.status = res.statusCode;
        if (res.statusCode >= 200 && res.statusCode < 300) return;
      } catch (err) {
        entry.error = (err as { code?: string }).code ?? 'request failed';
      }
      if (attempt < this.options.maxAttempts) await sleep(delay);
      delay *= 2;
    }
  }

  /** Waits (at most `maxMs`) until a delivery attempt started at or after `since` (epoch ms) has finished; answers whether one did. */
  async attemptedSince(since: number, maxMs: number, tag?: string): Promise<boolean> {
    const until = Date.now() + maxMs;
    const done = () =>
      this.log.some(
        (e) =>
          Date.parse(e.at) >= since - 5 &&
          (tag === undefined || e.tag === tag) &&
          (e.status !== null || e.error !== undefined),
      );
    while (!done()) {
      if (Date.now() >= until) return false;
      await sleep(20);
    }
    return true;
  }

  /** Waits for deliveries under way (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  stop(): void {
    this.stopped = true;
  }
}

/** The last path segment of our webhook URLs is a secret token: keep it out of the log. */
function redact(url: string): string {
  return url.replace(/\/[A-Za-z0-9_-]{32,}$/, '/…');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
