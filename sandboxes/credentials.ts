/**
 * The credentials each local sandbox accepts. They are public on purpose: the sandboxes run on the
 * developer's machine, and the service uses them when no real vendor is configured.
 */
export const SANDBOX_CREDENTIALS = {
  finwave: { clientToken: 'sandbox-finwave-client-token' },
} as const;
