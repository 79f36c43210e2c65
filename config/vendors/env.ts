/** Value schemas the vendors' settings share (config/index.ts uses the same). */
import { z } from 'zod';

/** An http(s) URL, trailing slashes removed. */
export const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
  .transform((u) => u.replace(/\/+$/, ''));
