/** jest globalTeardown: stops the dev server started by test/global-setup.ts. */
export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__TEMPORAL_TEST_DEV_SERVER__;
  globalThis.__TEMPORAL_TEST_DEV_SERVER__ = undefined;
  await server?.stop();
}
