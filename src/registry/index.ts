/**
 * The registry watch: what the framework serves (RegistryPublisher behind a
 * RegistryWatchServer) and what the DNS server and the load balancer consume
 * (RegistryWatchClient). The wire contract is types.ts; README.md explains it.
 */
export * from './types.ts';
export { DEFAULT_DELTA_WINDOW_CAPACITY, DeltaWindow, type WindowAnswer } from './delta-window.ts';
export { parseApp, parseCluster, parseDelta, parseEndpoint, parseSnapshot, parseWatchRecord } from './record-validation.ts';
export {
  RegistryPublisher,
  type RegistryChange,
  type RegistryPublisherOptions,
  type RegistrySubscriber,
  type Subscription,
} from './registry-publisher.ts';
export { RegistryDeltaRejectedError, RegistryState, describeDelta, type DeltaRejection, type ReadonlyRegistryState } from './registry-state.ts';
export {
  DEFAULT_MAX_REGISTRY_RECORD_BYTES,
  RegistryWatchClient,
  RegistryWatchError,
  defaultRegistryBackoff,
  type ConnectedInfo,
  type DisconnectedInfo,
  type RegistryWatchClientOptions,
  type RegistryWatchEvents,
} from './watch-client.ts';
export {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_WATCHER_BUFFERED_BYTES,
  RegistryWatchServer,
  ShuttingDownError,
  parseSince,
  type WatchServerOptions,
} from './watch-server.ts';
