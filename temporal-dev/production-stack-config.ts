/** The configuration files the production-shaped stack writes for the Temporal server and its Web UI server. */

export function serverConfig(pgPort: number, pgUser: string, base: number): string {
  const ds = (db: string, conns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "127.0.0.1:${pgPort}"
        connectProtocol: "tcp"
        user: "${pgUser}"
        password: ""
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (name: string, grpc: number, membership: number, extra = '') => `
  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:${ds('temporal', 20)}
    postgres-visibility:${ds('temporal_visibility', 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${base + 9}"
services:${svc('frontend', base, base + 4, `\n      httpPort: ${base + 8}`)}${svc('history', base + 1, base + 5)}${svc('matching', base + 2, base + 6)}${svc('worker', base + 3, base + 7)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${base}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "config/dynamicconfig.yaml"
  pollInterval: "10s"
`;
}

export const DYNAMIC_CONFIG = `limit.maxIDLength:
  - value: 255
frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableExecuteMultiOperation:
  - value: true
system.enableDeployments:
  - value: true
system.enableDeploymentVersions:
  - value: true
frontend.workerVersioningWorkflowAPIs:
  - value: true
`;

/** The Web UI server's config (github.com/temporalio/ui-server: base.yaml, then <env>.yaml). */
export function uiConfig(temporal: string, port: number, codecEndpoint: string): string {
  return `temporalGrpcAddress: ${temporal}
host: 127.0.0.1
port: ${port}
enableUi: true
defaultNamespace: default
notifyOnNewVersion: false
refreshInterval: 1m
cors:
  cookieInsecure: true
  allowOrigins:
    - "http://localhost:${port}"
codec:
  endpoint: ${codecEndpoint}
  passAccessToken: false
  includeCredentials: false
`;
}
