/**
 * Authenteq web identity verification, for the layers that are not Authenteq's own: its settings,
 * activities, create body, browser-return receiver and sandbox. The flow: workflows/authenteq.ts.
 */
import { z } from 'zod';
import type { VendorConfigContext, VendorContract } from './contract';
import type { AuthenteqConfig } from './authenteq-config';
import { httpUrl } from './env';
import { AUTHENTEQ_VENDOR, type AuthenteqInput } from '../../workflows/authenteq';
import { createAuthenteqActivities } from '../../activities/authenteq';
import { authenteqInput, authenteqOptions } from '../../client/providers/authenteq';
import { registerAuthenteqReturn } from '../../client/returns/authenteq';
import { AuthenteqSandbox, registerAuthenteqSandbox, type AuthenteqSandboxOptions } from '../../sandboxes/authenteq';
import { SANDBOX_CREDENTIALS } from '../../sandboxes/credentials';

/** Authenteq: Basic auth with the Customer Dashboard's client id and secret; the base URL defaults to the documented one. */
const env = {
  AUTHENTEQ_BASE_URL: httpUrl.optional(),
  AUTHENTEQ_CLIENT_ID: z.string().min(1).optional(),
  AUTHENTEQ_CLIENT_SECRET: z.string().min(8).optional(),
  /** The redirect URL registered in Authenteq's dashboard; default `<PUBLIC_BASE_URL>/return/authenteq`. Kept verbatim. */
  AUTHENTEQ_REDIRECT_URL: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
    .optional(),
};

const body = { options: authenteqOptions.default(authenteqOptions.parse({})) };
type Body = z.infer<z.ZodObject<typeof body>> & { reference: string };

export const authenteq = {
  ...AUTHENTEQ_VENDOR,
  workflows: { start: 'authenteqVerification', types: ['authenteqVerification'] },
  config: {
    env,
    load({ e, sandboxBase, publicBaseUrl, notes, pair, error }: VendorConfigContext<typeof env>): AuthenteqConfig {
      const real = pair('AUTHENTEQ_CLIENT_ID', 'AUTHENTEQ_CLIENT_SECRET');
      if (!real && e.AUTHENTEQ_BASE_URL)
        throw error('AUTHENTEQ_CLIENT_ID', 'is required when AUTHENTEQ_BASE_URL is set');
      if (!real) notes.push(`Authenteq: no vendor settings, using the local sandbox at ${sandboxBase}/authenteq`);
      const redirectUrl = e.AUTHENTEQ_REDIRECT_URL ?? `${publicBaseUrl}/return/authenteq`;
      return real
        ? {
            baseUrl: e.AUTHENTEQ_BASE_URL ?? 'https://api.app.authenteq.com',
            clientId: e.AUTHENTEQ_CLIENT_ID!,
            clientSecret: e.AUTHENTEQ_CLIENT_SECRET!,
            redirectUrl,
            sandbox: false,
          }
        : { baseUrl: `${sandboxBase}/authenteq`, ...SANDBOX_CREDENTIALS.authenteq, redirectUrl, sandbox: true };
    },
  },
  activities: ({ config, store, webhookSecret }) => createAuthenteqActivities({ config, store, webhookSecret }),
  api: {
    body,
    input: (id: string, b: Body): AuthenteqInput => authenteqInput(id, b.reference, b.options),
  },
  routes: {
    returns: (app, { client, webhookSecret }) => registerAuthenteqReturn(app, { client, webhookSecret }),
  },
  sandbox: {
    create: ({ publicUrl, options }) =>
      new AuthenteqSandbox({
        ...SANDBOX_CREDENTIALS.authenteq,
        publicUrl,
        redirectUrls: ['http://localhost:8080/return/authenteq'],
        ...options,
      }),
    register: registerAuthenteqSandbox,
    describe: (u) =>
      `<li>Authenteq: API base <code>${u}/authenteq</code>, Basic <code>${SANDBOX_CREDENTIALS.authenteq.clientId}</code> / <code>${SANDBOX_CREDENTIALS.authenteq.clientSecret}</code></li>`,
    // The sandbox's "Customer Dashboard" registers our configured redirect URL.
    settingsFrom: ({ config }) => ({ redirectUrls: [config.redirectUrl] }),
  },
} satisfies VendorContract<AuthenteqConfig, AuthenteqSandbox, AuthenteqSandboxOptions>;
