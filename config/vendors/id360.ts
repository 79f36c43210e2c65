/**
 * ID360 (Docaposte) enrollment, for the layers that are not ID360's own: its settings, activities (with
 * the worker's one login session), create body, webhook receiver, browser link, the integrator's upload
 * steps and its sandbox. The flow: workflows/id360.ts.
 */
import { z } from 'zod';
import type { VendorConfigContext, VendorContract } from './contract';
import type { Id360Config } from './id360-config';
import { httpUrl } from './env';
import { ID360_VENDOR, type Id360Input } from '../../workflows/id360';
import { createId360Activities } from '../../activities/id360';
import { Id360Session } from '../../activities/id360-session';
import { id360Applicant, id360Compare, id360Input, id360Options } from '../../client/providers/id360';
import { registerId360Webhook } from '../../client/webhooks/id360';
import { registerId360Link } from '../../client/returns/id360';
import { registerId360Actions } from '../../client/actions/id360';
import { Id360Sandbox, registerId360Sandbox, type Id360SandboxOptions } from '../../sandboxes/id360';
import { SANDBOX_CREDENTIALS } from '../../sandboxes/credentials';

/** ID360 (Docaposte): the host root (e.g. https://preprod.id360docaposte.com), the application login, the process UUID. */
const env = {
  ID360_BASE_URL: httpUrl.optional(),
  ID360_USERNAME: z.string().min(1).optional(),
  ID360_PASSWORD: z.string().min(8).optional(),
  ID360_PROCESS_ID: z
    .string()
    .regex(/^[0-9a-f-]{36}$/i, 'must be the process UUID shown in the ID360 admin UI')
    .optional(),
};

const body = {
  applicant: id360Applicant.default({}),
  compare: id360Compare.default({}),
  options: id360Options.default(id360Options.parse({})),
};
type Body = z.infer<z.ZodObject<typeof body>> & { reference: string };

export const id360 = {
  ...ID360_VENDOR,
  workflows: { start: 'id360Enrollment', types: ['id360Enrollment'] },
  config: {
    env,
    /** All four settings (host, login, password, process) or none, and none means the local sandbox. */
    load({ e, sandboxBase, notes, pair }: VendorConfigContext<typeof env>): Id360Config {
      const real = pair('ID360_BASE_URL', 'ID360_USERNAME');
      pair('ID360_BASE_URL', 'ID360_PASSWORD');
      pair('ID360_BASE_URL', 'ID360_PROCESS_ID');
      if (!real) notes.push(`ID360: no vendor settings, using the local sandbox at ${sandboxBase}/id360`);
      return real
        ? {
            baseUrl: e.ID360_BASE_URL!,
            username: e.ID360_USERNAME!,
            password: e.ID360_PASSWORD!,
            processId: e.ID360_PROCESS_ID!,
            sandbox: false,
          }
        : { baseUrl: `${sandboxBase}/id360`, ...SANDBOX_CREDENTIALS.id360, sandbox: true };
    },
  },
  activities: ({ config, store, publicBaseUrl, webhookSecret }) =>
    createId360Activities({
      config,
      store,
      // ID360's login session, one per worker process.
      session: new Id360Session({ baseUrl: config.baseUrl, username: config.username, password: config.password }),
      publicBaseUrl,
      webhookSecret,
    }),
  api: {
    body,
    input: (id: string, b: Body): Id360Input => id360Input(id, b.reference, b.applicant, b.compare, b.options),
  },
  routes: {
    webhooks: {
      auth: 'url-token',
      register: (app, { client, webhookSecret }) => registerId360Webhook(app, { client, webhookSecret }),
    },
    returns: (app, { client, webhookSecret, config }) =>
      registerId360Link(app, { client, webhookSecret, id360BaseUrl: config.baseUrl }),
    actions: (app, { client, store }) => registerId360Actions(app, { client, store }),
  },
  sandbox: {
    create: ({ publicUrl, options }) => new Id360Sandbox({ ...SANDBOX_CREDENTIALS.id360, publicUrl, ...options }),
    register: registerId360Sandbox,
    stop: (s) => s.stop(),
    describe: (u) => {
      const c = SANDBOX_CREDENTIALS.id360;
      return `<li>ID360: host root <code>${u}/id360</code> (API under <code>/api/1.0.0</code>), login <code>${c.username}</code> / <code>${c.password}</code>, process <code>${c.processId}</code></li>`;
    },
  },
} satisfies VendorContract<Id360Config, Id360Sandbox, Id360SandboxOptions>;
