/**
 * Small builders for registry apps and endpoints, shared by the registry's
 * unit and integration tests.
 */
import type { RegistryApp, RegistryEndpoint } from '../../src/registry/types.ts';

export function app(id: string, extra: Partial<RegistryApp> = {}): RegistryApp {
  return { id, labels: {}, ports: [{ name: 'http', protocol: 'tcp', servicePort: 10000, labels: {} }], ...extra };
}

export function endpoint(appId: string, taskId: string, extra: Partial<RegistryEndpoint> = {}): RegistryEndpoint {
  return {
    appId,
    taskId,
    index: 0,
    host: 'agent-1',
    ip: '10.0.0.1',
    ports: [31000],
    version: '2026-01-01T00:00:00.000Z',
    healthySince: '2026-01-01T00:00:05.000Z',
    ...extra,
  };
}
