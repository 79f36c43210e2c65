/**
 * Fourthline identity case and qualified signature, for the layers that are not Fourthline's own: its
 * settings (the API key, and the webhook credentials we give it), activities, create body, webhook
 * receivers, the integrator's signature steps, the evidence its signature attempts store, its sandbox.
 * The flows: workflows/fourthline*.ts.
 */
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { VendorConfigContext, VendorContract } from './contract';
import type { FourthlineConfig, FourthlineWebhookAuth } from './fourthline-config';
import { httpUrl } from './env';
import {
  FOURTHLINE_CASE_MEMO_KEY,
  FOURTHLINE_VENDOR,
  fourthlineCaseQuery,
  type FourthlineCaseInput,
} from '../../workflows/fourthline';
import { createFourthlineActivities } from '../../activities/fourthline';
import { fourthlineInput, fourthlineOptions } from '../../client/providers/fourthline';
import { registerFourthlineWebhooks, type FourthlineCaseLookup } from '../../client/webhooks/fourthline';
import { registerFourthlineActions } from '../../client/actions/fourthline';
import { readPublished } from '../../client/read-model';
import {
  FourthlineSandbox,
  fourthlineWebhookSettings,
  registerFourthlineSandbox,
  type FourthlineSandboxOptions,
} from '../../sandboxes/fourthline';
import { SANDBOX_CREDENTIALS } from '../../sandboxes/credentials';

/** What a test may pass as `buildApi({ vendorOptions: { fourthline } })`. */
export interface FourthlineRouteOptions {
  /** How case webhooks find their verification (default: the `VerificationProviderReference` search attribute). */
  findCase?: FourthlineCaseLookup;
}

const env = {
  FOURTHLINE_BASE_URL: httpUrl.optional(),
  FOURTHLINE_CLIENT_ID: z.string().min(1).optional(),
  FOURTHLINE_CLIENT_SECRET: z.string().min(8).optional(),
  /** The token path is not public (vendor notes): configurable, the sandbox's by default. */
  FOURTHLINE_TOKEN_PATH: z
    .string()
    .regex(/^\/\S*$/, 'must start with /')
    .default('/oauth2/token'),
  /** How Fourthline authenticates its webhooks to us: HTTP Basic, or OAuth client credentials against our token URL. */
  FOURTHLINE_WEBHOOK_AUTH: z.enum(['basic', 'oauth']).default('basic'),
  FOURTHLINE_WEBHOOK_USER: z.string().min(1).optional(),
  FOURTHLINE_WEBHOOK_PASSWORD: z.string().min(16, 'must be at least 16 characters').optional(),
  FOURTHLINE_WEBHOOK_CLIENT_ID: z.string().min(1).optional(),
  FOURTHLINE_WEBHOOK_CLIENT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
};

/** The API key (client id + secret) or the sandbox, and the webhook credentials we give it. */
function load({ e, prod, sandboxBase, notes, pair, error }: VendorConfigContext<typeof env>): FourthlineConfig {
  const real = pair('FOURTHLINE_BASE_URL', 'FOURTHLINE_CLIENT_ID');
  if (real && !e.FOURTHLINE_CLIENT_SECRET)
    throw error('FOURTHLINE_CLIENT_SECRET', 'is required when FOURTHLINE_CLIENT_ID is set');
  if (!real) notes.push(`Fourthline: no vendor settings, using the local sandbox at ${sandboxBase}/fourthline`);
  const dev = SANDBOX_CREDENTIALS.fourthline;
  let webhookAuth: FourthlineWebhookAuth;
  if (e.FOURTHLINE_WEBHOOK_AUTH === 'basic') {
    pair('FOURTHLINE_WEBHOOK_USER', 'FOURTHLINE_WEBHOOK_PASSWORD');
    if (!e.FOURTHLINE_WEBHOOK_USER && prod && real) throw error('FOURTHLINE_WEBHOOK_USER', 'is required in production');
    webhookAuth = {
      mode: 'basic',
      username: e.FOURTHLINE_WEBHOOK_USER ?? dev.webhookUser,
      password: e.FOURTHLINE_WEBHOOK_PASSWORD ?? dev.webhookPassword,
    };
  } else {
    pair('FOURTHLINE_WEBHOOK_CLIENT_ID', 'FOURTHLINE_WEBHOOK_CLIENT_SECRET');
    if (!e.FOURTHLINE_WEBHOOK_CLIENT_ID && prod && real)
      throw error('FOURTHLINE_WEBHOOK_CLIENT_ID', 'is required in production');
    webhookAuth = {
      mode: 'oauth',
      clientId: e.FOURTHLINE_WEBHOOK_CLIENT_ID ?? dev.webhookClientId,
      clientSecret: e.FOURTHLINE_WEBHOOK_CLIENT_SECRET ?? dev.webhookClientSecret,
    };
  }
  return real
    ? {
        baseUrl: e.FOURTHLINE_BASE_URL!,
        clientId: e.FOURTHLINE_CLIENT_ID!,
        clientSecret: e.FOURTHLINE_CLIENT_SECRET!,
        tokenPath: e.FOURTHLINE_TOKEN_PATH,
        webhookAuth,
        sandbox: false,
      }
    : {
        baseUrl: `${sandboxBase}/fourthline`,
        clientId: dev.clientId,
        clientSecret: dev.clientSecret,
        tokenPath: e.FOURTHLINE_TOKEN_PATH,
        webhookAuth,
        sandbox: true,
      };
}

const body = { options: fourthlineOptions.default(fourthlineOptions.parse({})) };
type Body = z.infer<z.ZodObject<typeof body>> & { reference: string };

/** Each signature attempt is a child workflow that stores its own evidence (documents, selfie, signed PDFs). */
async function evidenceOwners(client: Client, workflowId: string): Promise<string[]> {
  const view = await readPublished(client, workflowId, fourthlineCaseQuery, FOURTHLINE_CASE_MEMO_KEY);
  return (view?.attempts ?? []).map((a) => a.workflowId);
}

const creds = SANDBOX_CREDENTIALS.fourthline;

export const fourthline = {
  ...FOURTHLINE_VENDOR,
  workflows: { start: 'fourthlineCase', types: ['fourthlineCase', 'fourthlineSignature'] },
  config: { env, load },
  activities: ({ config, store }) => createFourthlineActivities({ config, store }),
  api: {
    body,
    input: (id: string, b: Body): FourthlineCaseInput => fourthlineInput(id, b.reference, b.options),
  },
  routes: {
    // Fourthline authenticates its webhooks itself (HTTP Basic or OAuth bearer from our token endpoint).
    webhooks: {
      auth: 'vendor',
      register: (app, { client, config, webhookSecret, options }) =>
        registerFourthlineWebhooks(app, {
          client,
          auth: config.webhookAuth,
          webhookSecret,
          findCase: (options as FourthlineRouteOptions | undefined)?.findCase,
        }),
    },
    actions: (app, { client, store }) => registerFourthlineActions(app, { client, store }),
  },
  personalData: { evidenceOwners },
  sandbox: {
    create: ({ options }) =>
      new FourthlineSandbox({
        clientId: creds.clientId,
        clientSecret: creds.clientSecret,
        caseWebhookUrl: 'http://localhost:8080/webhooks/fourthline/cases',
        signatureWebhookUrl: 'http://localhost:8080/webhooks/fourthline/signatures',
        webhookAuth: { mode: 'basic', username: creds.webhookUser, password: creds.webhookPassword },
        ...options,
      }),
    register: registerFourthlineSandbox,
    stop: (s) => s.stop(),
    describe: (u) =>
      `<li>Fourthline: API base <code>${u}/fourthline</code>, client <code>${creds.clientId}</code> / <code>${creds.clientSecret}</code></li>`,
    // Fourthline's account settings: our webhook URLs and the credentials we gave it (Basic or OAuth).
    settingsFrom: ({ config, publicBaseUrl }) => fourthlineWebhookSettings(publicBaseUrl, config.webhookAuth),
  },
} satisfies VendorContract<FourthlineConfig, FourthlineSandbox, FourthlineSandboxOptions>;
