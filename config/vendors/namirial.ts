/**
 * Namirial VerifID enrollment, for the layers that are not Namirial's own: its settings, activities,
 * create body, browser-return receiver and sandbox. The flow: workflows/namirial.ts.
 */
import { z } from 'zod';
import type { VendorConfigContext, VendorContract } from './contract';
import type { NamirialConfig } from './namirial-config';
import { httpUrl } from './env';
import { NAMIRIAL_VENDOR, type NamirialInput } from '../../workflows/namirial';
import { createNamirialActivities } from '../../activities/namirial';
import { namirialApplicant, namirialInput, namirialOptions } from '../../client/providers/namirial';
import { registerNamirialReturn } from '../../client/returns/namirial';
import { NamirialSandbox, registerNamirialSandbox, type NamirialSandboxOptions } from '../../sandboxes/namirial';
import { SANDBOX_CREDENTIALS } from '../../sandboxes/credentials';

/** Namirial VerifID: API token + the enrollment Profile Namirial set up for us; base URL defaults to the documented one. */
const env = {
  NAMIRIAL_BASE_URL: httpUrl.optional(),
  NAMIRIAL_API_TOKEN: z.string().min(8).optional(),
  NAMIRIAL_PROFILE: z
    .string()
    .regex(/^[^:\s]+::[^:\s]+::[^:\s]+$/, 'must look like Bit4Id::SPIDOnly::<Customer>')
    .optional(),
};

const body = {
  applicant: namirialApplicant,
  options: namirialOptions.default(namirialOptions.parse({})),
};
type Body = z.infer<z.ZodObject<typeof body>> & { reference: string };

export const namirial = {
  ...NAMIRIAL_VENDOR,
  workflows: { start: 'namirialEnrollment', types: ['namirialEnrollment'] },
  config: {
    env,
    load({ e, sandboxBase, notes, pair, error }: VendorConfigContext<typeof env>): NamirialConfig {
      const real = pair('NAMIRIAL_API_TOKEN', 'NAMIRIAL_PROFILE');
      if (!real && e.NAMIRIAL_BASE_URL) throw error('NAMIRIAL_API_TOKEN', 'is required when NAMIRIAL_BASE_URL is set');
      if (!real) notes.push(`Namirial: no vendor settings, using the local sandbox at ${sandboxBase}/namirial`);
      return real
        ? {
            baseUrl: e.NAMIRIAL_BASE_URL ?? 'https://verifid.ecertia.com',
            apiToken: e.NAMIRIAL_API_TOKEN!,
            profile: e.NAMIRIAL_PROFILE!,
            sandbox: false,
          }
        : { baseUrl: `${sandboxBase}/namirial`, ...SANDBOX_CREDENTIALS.namirial, sandbox: true };
    },
  },
  activities: ({ config, store, publicBaseUrl, webhookSecret }) =>
    createNamirialActivities({ config, store, publicBaseUrl, webhookSecret }),
  api: {
    body,
    input: (id: string, b: Body): NamirialInput => namirialInput(id, b.reference, b.applicant, b.options),
  },
  routes: {
    returns: (app, { client, webhookSecret }) => registerNamirialReturn(app, { client, webhookSecret }),
  },
  sandbox: {
    create: ({ publicUrl, options }) =>
      new NamirialSandbox({ apiToken: SANDBOX_CREDENTIALS.namirial.apiToken, publicUrl, ...options }),
    register: registerNamirialSandbox,
    stop: (s) => s.stop(),
    describe: (u) =>
      `<li>Namirial VerifID: API base <code>${u}/namirial/api/v1</code>, X-VerifiD-ApiToken <code>${SANDBOX_CREDENTIALS.namirial.apiToken}</code></li>`,
  },
} satisfies VendorContract<NamirialConfig, NamirialSandbox, NamirialSandboxOptions>;
