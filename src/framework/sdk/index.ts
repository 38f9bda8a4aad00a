/**
 * The cygnet scheduler SDK: a client for the Mesos v1 Scheduler API.
 * See client.ts for the usage example; this file only re-exports.
 */
export { SchedulerClient, maxRedirectsPerAttempt } from './client.ts';
export type { SchedulerClientOptions, SchedulerClientState } from './client.ts';
export type { SchedulerEventMap, SchedulerEventName, SubscribedInfo, DisconnectInfo } from './events.ts';
export { SchedulerCallError, SchedulerConnectionError, SchedulerStateError } from './errors.ts';
export { computeBackoffMs, defaultBackoffPolicy } from './backoff.ts';
export type { BackoffPolicy } from './backoff.ts';
export { HeartbeatWatchdog, missedHeartbeatsAllowed } from './heartbeat-watchdog.ts';
export type { SchedulerContentType } from './wire.ts';
export * from './task-helpers.ts';
