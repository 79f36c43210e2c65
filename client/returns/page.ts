/**
 * What the browser-return receivers (`/return/<provider>/...`) share: the small page a browser gets
 * back, and signalling the workflow without ever telling the browser anything about the result.
 */
import type { FastifyReply } from 'fastify';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/workflow';
import { hasClosed } from '../workflow-status';
import { observeSignalDelivered } from '../metrics';

/** A minimal HTML page. The URL that brought the browser here carries credentials: no caching, no referrer. */
export function browserPage(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escapeHtml(title)}</title><style>body{font-family:system-ui;max-width:32rem;margin:4rem auto;padding:0 1rem}</style>` +
    `</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(html);
}

/** Sends the browser to the integrator's page (fixed at create time, signed into the state). */
export function redirectBrowser(reply: FastifyReply, url: string): FastifyReply {
  return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(url, 303);
}

/** Signals the verification; tells apart a running one, one that has ended, and none at all. */
export async function signalFromBrowser<T extends unknown[]>(
  handle: WorkflowHandle,
  signal: SignalDefinition<T>,
  ...args: T
): Promise<'delivered' | 'ended' | 'unknown'> {
  try {
    await handle.signal(signal, ...args);
    observeSignalDelivered('signalled');
    return 'delivered';
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    if (!(await hasClosed(handle))) return 'unknown';
    observeSignalDelivered('ended');
    return 'ended';
  }
}

/**
 * Returns deduplicated before they reach workflow history: a browser (or someone replaying the URL)
 * sending the same return again is answered without a signal, and one verification session takes at
 * most a few distinct returns within the window. In memory, per API process: with several API
 * processes a replay reaches history at most once per process, and the workflow ignores it.
 */
export class ReturnDeduplicator {
  private readonly seen = new Map<string, { at: number; variants: Set<string> }>();
  constructor(
    private readonly windowMs = 15 * 60_000,
    private readonly maxVariants = 4,
    private readonly maxEntries = 50_000,
  ) {}

  /** True when this return (of this verification session) should reach the workflow. */
  admit(session: string, variant: string, now = Date.now()): boolean {
    const entry = this.seen.get(session);
    if (entry && now - entry.at < this.windowMs) {
      if (entry.variants.has(variant) || entry.variants.size >= this.maxVariants) return false;
      entry.variants.add(variant);
      return true;
    }
    if (this.seen.size >= this.maxEntries) {
      // Drop the oldest (Map keeps insertion order).
      for (const [k, v] of this.seen) {
        if (this.seen.size < this.maxEntries && now - v.at < this.windowMs) break;
        this.seen.delete(k);
      }
    }
    this.seen.delete(session);
    this.seen.set(session, { at: now, variants: new Set([variant]) });
    return true;
  }
}

export const INVALID_LINK = [
  'Link not valid',
  'This link is not valid. Please go back to the service that sent you and start again.',
] as const;
export const NOT_FOUND = [
  'Verification not found',
  'We could not find this verification. Please go back to the service that sent you.',
] as const;
export const ENDED = [
  'Verification closed',
  'This verification has already ended. You can close this window.',
] as const;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
