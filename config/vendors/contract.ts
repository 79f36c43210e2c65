/**
 * What a vendor is, for every layer that is not the vendor's own: one object per vendor, in
 * config/vendors/<vendor>.ts, `satisfies VendorContract`, and one registry (config/vendors/index.ts) from
 * which every list of vendors derives: the provider union, the create body, the task queues, the routes,
 * the workers, the config schema, the sandboxes. docs/adding-a-vendor.md walks through adding one.
 *
 * Types only: workflow code may `import type` from here; nothing here runs.
 */
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import type { WebhookKey } from '../webhook-token';
import type { EvidenceStore } from '../../activities/evidence-store';

/** What every vendor's configuration holds. */
export interface VendorEndpoint {
  /** Where the vendor API lives. For a sandbox: the local sandbox server. */
  baseUrl: string;
  /** True when this points at the local sandbox (no vendor settings were given). */
  sandbox: boolean;
}

/** What a vendor's config part is given to read its own settings (config/index.ts `loadConfig`). */
export interface VendorConfigContext<Env extends z.ZodRawShape = z.ZodRawShape> {
  /** The vendor's own settings, validated by its `env` schema. */
  e: z.infer<z.ZodObject<Env>>;
  /** The raw environment (for "both or neither" checks). */
  env: Record<string, string | undefined>;
  prod: boolean;
  /** The local sandbox server, e.g. http://127.0.0.1:8090 (the vendor's sandbox is under `/<name>`). */
  sandboxBase: string;
  /** Where vendors and browsers reach our receivers (PUBLIC_BASE_URL, else the local API). */
  publicBaseUrl: string;
  /** Defaults taken, for the launchers to print (never secrets). */
  notes: string[];
  /** Both or neither: true when both are set, a ConfigError naming the missing one when only one is. */
  pair: (a: string, b: string) => boolean;
  /** config/index.ts's ConfigError (one line naming the variable). */
  error: (variable: string, problem: string) => Error;
}

/** What a vendor's activity factory is given (activities/index.ts). */
export interface VendorActivityDeps<Config> {
  config: Config;
  /** Every `put` is claimed by the workflow that runs the activity. */
  store: EvidenceStore;
  publicBaseUrl: string;
  /** The webhook keyring (config/webhook-token.ts): webhook URLs, signed return states. */
  webhookSecret: readonly WebhookKey[];
}

/** What a vendor's routes are given (client/app.ts). */
export interface VendorRouteDeps<Config> {
  client: Client;
  config: Config;
  store: EvidenceStore;
  webhookSecret: readonly WebhookKey[];
  /** What a test passed for this vendor in `buildApi({ vendorOptions })` (e.g. a lookup without visibility). */
  options?: unknown;
}

/**
 * Declared as a method and read back as its type: TypeScript checks a method's parameters both ways, so a
 * contract whose routes take a vendor's own config still fits the registry's `VendorContract` (whose
 * config is `VendorEndpoint`), as its `load` and `activities` do.
 */
export type RegisterRoutes<Config> = {
  register(app: FastifyInstance, deps: VendorRouteDeps<Config>): void;
}['register'];

/** The vendor's sandbox on the sandbox server (sandboxes/server.ts), under `/<name>`. */
export interface VendorSandbox<Sandbox, Options, Config = VendorEndpoint> {
  create(ctx: { publicUrl: string; options: Partial<Options> }): Sandbox;
  register(app: FastifyInstance, sandbox: Sandbox): void;
  stop?(sandbox: Sandbox): void;
  /** Its line on the sandbox server's index page (HTML). */
  describe(publicUrl: string): string;
  /** The sandbox's account settings from our config: our receivers' URLs, the credentials we gave it. */
  settingsFrom?(ctx: { config: Config; publicBaseUrl: string }): Partial<Options>;
}

export interface VendorContract<
  Config extends VendorEndpoint = VendorEndpoint,
  Sandbox = unknown,
  SandboxOptions = unknown,
> {
  /** The API's `provider`, the workflow id prefix, the `VerificationProvider` search attribute, `<prefix>-<name>` activity queue. */
  name: string;
  /** How operators read the vendor's name (Web UI summaries). */
  label: string;
  workflows: {
    /** The workflow type the API starts (an export name of workflows/index.ts). */
    start: string;
    /** Every workflow type of the vendor (children included). */
    types: readonly string[];
  };
  /** Its settings: the env schema (spread into config/index.ts's) and how they become its config. */
  config: {
    env: z.ZodRawShape;
    load(ctx: VendorConfigContext): Config;
  };
  /** Its activities, served on `<prefix>-<name>` by an activity-only Worker of their own. */
  activities(deps: VendorActivityDeps<Config>): object;
  /** `POST /v1/verifications` with `provider: <name>`. */
  api: {
    /** The body's fields besides `provider` and `reference` (a strict object). */
    body: z.ZodRawShape;
    /** The workflow input for a validated body (`body` has `reference` and the fields above). */
    input(id: string, body: never): unknown;
  };
  routes?: {
    /**
     * `/webhooks/<name>/...`. `auth: 'url-token'`: the URL ends in our per-verification token
     * (config/webhook-token.ts); `'vendor'`: the vendor authenticates itself (its own settings).
     */
    webhooks?: { auth: 'url-token' | 'vendor'; register: RegisterRoutes<Config> };
    /** Browser returns and links, `/return/<name>/...` and `/go/<name>/...`: the signed state is the credential. */
    returns?: RegisterRoutes<Config>;
    /** Steps the integrator's backend drives, `/v1/verifications/:id/actions/...` (bearer API key). */
    actions?: RegisterRoutes<Config>;
  };
  personalData?: {
    /** Workflows besides the verification that store evidence for it (its children): erasure and downloads reach them. */
    evidenceOwners?: (client: Client, workflowId: string) => Promise<string[]>;
  };
  sandbox: VendorSandbox<Sandbox, SandboxOptions, Config>;
}

/** A registry: each key is its contract's `name`. */
export type VendorRegistry = Record<string, VendorContract>;

/** The config each vendor of `R` reads. */
export type VendorConfigs<R extends VendorRegistry> = {
  [K in keyof R]: ReturnType<R[K]['config']['load']>;
};

/** The sandbox each vendor of `R` runs on the sandbox server. */
export type VendorSandboxes<R extends VendorRegistry> = {
  [K in keyof R]: ReturnType<R[K]['sandbox']['create']>;
};

export type VendorSandboxOptions<R extends VendorRegistry> = {
  [K in keyof R]?: Parameters<R[K]['sandbox']['create']>[0]['options'];
};
