/**
 * Finwave onboarding, for the layers that are not Finwave's own: its settings, activities, create body,
 * webhook receiver and sandbox. The flow itself: workflows/finwave.ts; the calls: activities/finwave.
 */
import { z } from 'zod';
import type { VendorConfigContext, VendorContract } from './contract';
import type { FinwaveConfig } from './finwave-config';
import { httpUrl } from './env';
import { FINWAVE_VENDOR, type FinwaveInput } from '../../workflows/finwave';
import { createFinwaveActivities } from '../../activities/finwave';
import { finwaveApplicant, finwaveInput, finwaveOptions } from '../../client/providers/finwave';
import { registerFinwaveWebhook } from '../../client/webhooks/finwave';
import { FinwaveSandbox, registerFinwaveSandbox, type FinwaveSandboxOptions } from '../../sandboxes/finwave';
import { SANDBOX_CREDENTIALS } from '../../sandboxes/credentials';

const env = {
  FINWAVE_BASE_URL: httpUrl.optional(),
  FINWAVE_CLIENT_TOKEN: z.string().min(8).optional(),
};

const body = {
  applicant: finwaveApplicant.default({}),
  options: finwaveOptions.default(finwaveOptions.parse({})),
};
type Body = z.infer<z.ZodObject<typeof body>> & { reference: string };

export const finwave = {
  ...FINWAVE_VENDOR,
  workflows: { start: 'finwaveOnboarding', types: ['finwaveOnboarding'] },
  config: {
    env,
    load({ e, sandboxBase, notes, pair }: VendorConfigContext<typeof env>): FinwaveConfig {
      const real = pair('FINWAVE_BASE_URL', 'FINWAVE_CLIENT_TOKEN');
      if (!real) notes.push(`Finwave: no vendor settings, using the local sandbox at ${sandboxBase}/finwave`);
      return real
        ? { baseUrl: e.FINWAVE_BASE_URL!, clientToken: e.FINWAVE_CLIENT_TOKEN!, sandbox: false }
        : {
            baseUrl: `${sandboxBase}/finwave/management`,
            clientToken: SANDBOX_CREDENTIALS.finwave.clientToken,
            sandbox: true,
          };
    },
  },
  activities: ({ config, store, publicBaseUrl, webhookSecret }) =>
    createFinwaveActivities({ config, store, publicBaseUrl, webhookSecret }),
  api: {
    body,
    input: (id: string, b: Body): FinwaveInput => finwaveInput(id, b.reference, b.applicant, b.options),
  },
  routes: {
    // Finwave documents no webhook authentication: the URL we give it ends in our per-verification token.
    webhooks: {
      auth: 'url-token',
      register: (app, { client, webhookSecret }) => registerFinwaveWebhook(app, { client, webhookSecret }),
    },
  },
  sandbox: {
    create: ({ publicUrl, options }) =>
      new FinwaveSandbox({ clientToken: SANDBOX_CREDENTIALS.finwave.clientToken, publicUrl, ...options }),
    register: registerFinwaveSandbox,
    stop: (s) => s.stop(),
    describe: (u) =>
      `<li>Finwave: API base <code>${u}/finwave/management</code>, token <code>${SANDBOX_CREDENTIALS.finwave.clientToken}</code></li>`,
  },
} satisfies VendorContract<FinwaveConfig, FinwaveSandbox, FinwaveSandboxOptions>;
