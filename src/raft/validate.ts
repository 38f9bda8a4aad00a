/**
 * Input checks of the Raft core, made once at its boundary: config and
 * bootstrap membership (thrown as ValidationError with the field path) and
 * message shapes a decoder cannot check (answered as a dropped StepResult).
 * Pure: no I/O.
 */
import { ValidationError } from '../common/errors.ts';
import type { ConfState, Message, NodeId, RaftConfig } from './types.ts';

/** Structural checks a decoder cannot make; returns what is wrong, or undefined. */
export function checkMessageShape(m: Message): string | undefined {
  if (!Number.isInteger(m.term) || m.term < 0) return `term ${m.term}`;
  if (m.type === 'AppendEntries') {
    if (!Number.isInteger(m.prevLogIndex) || m.prevLogIndex < 0) return `prevLogIndex ${m.prevLogIndex}`;
    let prevTerm = m.prevLogTerm;
    for (let k = 0; k < m.entries.length; k++) {
      const e = m.entries[k];
      if (e.index !== m.prevLogIndex + 1 + k) return `entries[${k}].index: expected ${m.prevLogIndex + 1 + k}, got ${e.index}`;
      if (e.term < prevTerm || e.term > m.term) return `entries[${k}].term: expected ${prevTerm}..${m.term}, got ${e.term}`;
      prevTerm = e.term;
    }
  } else if (m.type === 'InstallSnapshot') {
    if (m.meta.index < 1 || m.meta.term < 1 || m.meta.term > m.term) return `snapshot meta ${m.meta.term}/${m.meta.index}`;
    if (m.offset < 0) return `offset ${m.offset}`;
  }
  return undefined;
}

export function validateConf(conf: ConfState): void {
  const seen = new Set<NodeId>();
  const check = (list: readonly NodeId[], path: string): void => {
    list.forEach((id, i) => {
      if (!Number.isInteger(id) || id <= 0) throw new ValidationError(`initialState.conf.${path}[${i}]`, 'a node id > 0', String(id));
      if (seen.has(id)) throw new ValidationError(`initialState.conf.${path}[${i}]`, 'an id listed once', String(id));
      seen.add(id);
    });
  };
  check(conf.voters, 'voters');
  check(conf.learners, 'learners');
}

export function validateConfig(c: RaftConfig): void {
  const int = (path: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new ValidationError(`raftConfig.${path}`, `an integer >= ${min}`, String(v));
  };
  int('id', c.id, 1);
  int('heartbeatTicks', c.heartbeatTicks, 1);
  int('electionTicks', c.electionTicks, c.heartbeatTicks + 1);
  int('maxInflightMsgs', c.maxInflightMsgs, 1);
  int('maxEntriesPerMsg', c.maxEntriesPerMsg, 1);
  int('maxBytesPerMsg', c.maxBytesPerMsg, 1);
  int('snapshotChunkBytes', c.snapshotChunkBytes, 1);
  int('maxPendingReads', c.maxPendingReads, 1);
}
