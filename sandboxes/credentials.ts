/**
 * The credentials each local sandbox accepts. They are public on purpose: the sandboxes run on the
 * developer's machine, and the service uses them when no real vendor is configured.
 */
export const SANDBOX_CREDENTIALS = {
  finwave: { clientToken: 'sandbox-finwave-client-token' },
  id360: {
    username: 'sandbox-id360-application',
    password: 'sandbox-id360-password',
    processId: '5f0c9d3e-2b7a-4c1e-9a58-1d6e0f3b7c42',
  },
  authenteq: { clientId: 'sandbox-authenteq-client-id', clientSecret: 'sandbox-authenteq-client-secret' },
  namirial: { apiToken: 'sandbox-namirial-api-token', profile: 'Bit4Id::SPIDOnly::Sandbox' },
  fourthline: {
    clientId: 'sandbox-fourthline-client',
    clientSecret: 'sandbox-fourthline-secret',
    // What we give the sandbox for its webhooks to our receiver (Basic, or OAuth client credentials).
    webhookUser: 'fourthline-webhooks',
    webhookPassword: 'sandbox-fourthline-webhook-password',
    webhookClientId: 'fourthline-webhooks-client',
    webhookClientSecret: 'sandbox-fourthline-webhook-client-secret',
  },
} as const;
