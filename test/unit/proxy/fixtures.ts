/** Small builders for registry apps and endpoints in proxy tests. */
import type { RegistryEndpoint } from '../../../src/registry/types.ts';
import type { RegistryAppWithEndpoints } from '../../../src/proxy/route-table.ts';

export function endpoint(appId: string, n: number, port: number, version = 'v1', ip = '127.0.0.1'): RegistryEndpoint {
  return { appId, taskId: `${appId.replace(/\//g, '_')}.t${n}`, index: n, host: 'localhost', ip, ports: [port], version, healthySince: '2026-01-01T00:00:00.000Z' };
}

export function app(id: string, labels: Record<string, string>, endpoints: readonly RegistryEndpoint[], versionWeights?: Record<string, number>): RegistryAppWithEndpoints {
  return { id, labels, ports: [{ protocol: 'tcp', servicePort: 0, labels: {} }], endpoints, ...(versionWeights === undefined ? {} : { versionWeights }) };
}
