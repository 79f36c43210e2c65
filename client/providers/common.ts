import { z } from 'zod';
import { REFERENCE_PATTERN } from '../../workflows/shared';

export const reference = z
  .string()
  .regex(REFERENCE_PATTERN, 'must be 1-100 characters: letters, digits, dot, dash, underscore (and not personal data)');

/** A duration string such as "15 minutes", "2h" or "30s" in ms; NaN when it is not one. */
export function durationMs(v: string): number {
  const units: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 };
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)$/.exec(v.trim());
  if (!m) return NaN;
  const unit = m[2]!.startsWith('ms') ? 'ms' : m[2]![0]!;
  return Number(m[1]) * units[unit]!;
}

/** A Temporal duration string such as "15 minutes", "2h" or "30s", between `min` and `max`. */
export function duration(minMs: number, maxMs: number) {
  return z.string().refine(
    (v) => {
      const value = durationMs(v);
      return value >= minMs && value <= maxMs;
    },
    {
      message: `must be a duration like "30s", "15 minutes" or "72h", between ${minMs / 1000}s and ${maxMs / 3_600_000}h`,
    },
  );
}

/** The integrator's page our return receiver sends the browser to afterwards (nothing is added to it). */
export const returnTo = z
  .string()
  .max(500)
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
