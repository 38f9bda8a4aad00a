/**
 * The wire protocol layer in one import: message shapes (mesos-types,
 * agent-types), the codec, content negotiation, RecordIO framing, task-state
 * classification, ID helpers and one-line descriptions. Re-exports only.
 */

export * from './mesos-types.ts';
export * from './agent-types.ts';
export * from './codec.ts';
export * from './media.ts';
export * from './recordio.ts';
export * from './task-states.ts';
export * from './ids.ts';
export * from './describe.ts';
