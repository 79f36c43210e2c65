/**
 * Types a sandbox answer against the schema our activities parse it with (activities/<vendor>/api.ts),
 * so that the two sides cannot drift apart. The sandbox may send more fields than a client reads.
 * A compile-time check only: the body is returned as is.
 */
import type { z } from 'zod';

export function answer<S extends z.ZodType, B extends z.input<S>>(_schema: S, body: B): B {
  return body;
}
