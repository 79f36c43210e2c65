/**
 * A tenant's notification endpoints: one long-lived entity workflow per tenant
 * (`webhook-endpoints:<tenant>`), so the registry is durable and shared by every API replica and
 * worker without a database, and each change is serialized by the workflow. Secrets live in its
 * state, which the payload codec encrypts in history like every other payload.
 *
 * The API changes it through Updates (validators refuse a wrong change before anything is
 * recorded), delivery workflows disable an endpoint by signal, everyone reads it by query.
 *
 * It never ends, so under Worker Deployment Versioning it is AUTO_UPGRADE (every verification flow is
 * PINNED): it moves to the current build at its next workflow task and the old build can drain. So a
 * change to this file must replay the registry's history: guard it with a patch listed in workflows/patches.ts.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import {
  changeEndpointUpdate,
  createEndpointUpdate,
  disableEndpointSignal,
  endpointsQuery,
  rotateSecretUpdate,
  type EndpointRegistryState,
  type WebhookEndpoint,
} from './notify-shared';

/** At most this many endpoints per tenant. */
export const MAX_ENDPOINTS = 20;

export async function webhookEndpoints(input: EndpointRegistryState): Promise<void> {
  const state: EndpointRegistryState = { tenant: input.tenant, endpoints: input.endpoints ?? [] };
  const find = (id: string) => state.endpoints.find((e) => e.id === id);
  const mustFind = (id: string) => {
    const e = find(id);
    if (!e) throw new Error(`no endpoint ${id}`);
    return e;
  };

  setHandler(endpointsQuery, () => state);

  setHandler(
    createEndpointUpdate,
    ({ id, url, description, eventTypes, secret, at }) => {
      const endpoint: WebhookEndpoint = {
        id,
        url,
        description,
        eventTypes,
        enabled: true,
        disabledReason: null,
        flagged: false,
        secrets: [{ secret, createdAt: at, expiresAt: null }],
        createdAt: at,
        updatedAt: at,
      };
      state.endpoints.push(endpoint);
      return endpoint;
    },
    {
      validator: ({ id }: { id: string }) => {
        if (find(id)) throw new Error(`endpoint ${id} exists`);
        if (state.endpoints.length >= MAX_ENDPOINTS) throw new Error(`at most ${MAX_ENDPOINTS} endpoints per tenant`);
      },
    },
  );

  setHandler(
    changeEndpointUpdate,
    ({ id, change, at }) => {
      const e = mustFind(id);
      if (change.url !== undefined) e.url = change.url;
      if (change.description !== undefined) e.description = change.description;
      if (change.eventTypes !== undefined) e.eventTypes = change.eventTypes;
      if (change.enabled !== undefined && change.enabled !== e.enabled) {
        e.enabled = change.enabled;
        e.disabledReason = change.enabled ? null : 'disabled by the caller';
        if (change.enabled) e.flagged = false;
      }
      e.updatedAt = at;
      return e;
    },
    { validator: ({ id }: { id: string }) => void mustFind(id) },
  );

  setHandler(
    rotateSecretUpdate,
    ({ id, secret, overlapMs, at }) => {
      const e = mustFind(id);
      const until = new Date(Date.parse(at) + overlapMs).toISOString();
      // Secrets already past their overlap are dropped; the ones still current get the new end.
      e.secrets = e.secrets.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > Date.parse(at));
      for (const s of e.secrets)
        if (s.expiresAt === null || Date.parse(s.expiresAt) > Date.parse(until)) s.expiresAt = until;
      e.secrets.push({ secret, createdAt: at, expiresAt: null });
      e.updatedAt = at;
      return e;
    },
    { validator: ({ id }: { id: string }) => void mustFind(id) },
  );

  // From a delivery workflow (410, or the whole schedule failed). An unknown id (deleted since) is ignored on purpose.
  setHandler(disableEndpointSignal, ({ id, reason, flagged, at }) => {
    const e = find(id);
    if (!e || !e.enabled) return;
    e.enabled = false;
    e.disabledReason = reason;
    e.flagged = flagged;
    e.updatedAt = at;
  });

  // Lives forever; continues as new when the history grows (changes are rare, so this is seldom).
  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof webhookEndpoints>(state);
}
// Only on a versioned worker: the server refuses a versioning behavior from a worker without a deployment
// version (development and the tests run one), and there is no build to move away from anyway.
setWorkflowOptions(
  () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'AUTO_UPGRADE' } : {}),
  webhookEndpoints,
);
