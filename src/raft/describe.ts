/**
 * One stable line per message, entry, Ready and membership, used in logs and
 * as test expectations. Pure formatting; no I/O.
 */
import type { ConfState, Entry, Message, Ready } from './types.ts';
import { decodeConfChange } from './types.ts';

const textDecoder = new TextDecoder();

function bytes(b: Uint8Array): string {
  if (b.length === 0) return '""';
  const s = textDecoder.decode(b);
  return /^[\x20-\x7e]*$/.test(s) && s.length <= 32 ? JSON.stringify(s) : `<${b.length}B>`;
}

export function describeConf(conf: ConfState): string {
  const l = conf.learners.length > 0 ? ` learners=(${conf.learners.join(' ')})` : '';
  return `voters=(${conf.voters.join(' ')})${l}`;
}

export function describeEntry(e: Entry): string {
  if (e.type === 'conf') {
    try {
      const cc = decodeConfChange(e.data);
      return `${e.term}/${e.index} conf ${cc.type} ${cc.node}`;
    } catch {
      return `${e.term}/${e.index} conf <bad>`;
    }
  }
  return `${e.term}/${e.index} ${e.data.length === 0 ? 'noop' : bytes(e.data)}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'PreVote':
    case 'RequestVote':
      return `${head} last=${m.lastLogTerm}/${m.lastLogIndex}${m.type === 'RequestVote' && m.transfer ? ' transfer' : ''}`;
    case 'PreVoteResponse':
    case 'RequestVoteResponse':
      return `${head}${m.reject ? ' rejected' : ' granted'}`;
    case 'AppendEntries':
      return `${head} prev=${m.prevLogTerm}/${m.prevLogIndex} commit=${m.commit} entries=[${m.entries.map(describeEntry).join(', ')}]`;
    case 'AppendEntriesResponse':
      return m.reject
        ? `${head} rejected index=${m.index} hint=${m.hintTerm}/${m.hintIndex}`
        : `${head} index=${m.index}`;
    case 'InstallSnapshot':
      return `${head} snap=${m.meta.term}/${m.meta.index} offset=${m.offset} len=${m.chunk.length}${m.done ? ' done' : ''}`;
    case 'InstallSnapshotResponse':
      return `${head} snap=${m.index} offset=${m.offset}${m.done ? ' done' : ''}`;
    case 'Heartbeat':
      return `${head} commit=${m.commit}${m.ctx.length > 0 ? ` ctx=${bytes(m.ctx)}` : ''}`;
    case 'HeartbeatResponse':
      return `${head}${m.ctx.length > 0 ? ` ctx=${bytes(m.ctx)}` : ''}`;
    case 'TimeoutNow':
      return head;
    case 'ReadIndex':
      return `${head} ctx=${bytes(m.ctx)}`;
    case 'ReadIndexResponse':
      return `${head} ctx=${bytes(m.ctx)} index=${m.index}`;
  }
}

export function describeReady(r: Ready): string {
  const parts: string[] = [];
  if (r.softState) parts.push(`soft=${r.softState.role}/leader=${r.softState.leader}`);
  if (r.hardState) parts.push(`hard=term:${r.hardState.term} vote:${r.hardState.vote} commit:${r.hardState.commit}`);
  if (r.snapshot) parts.push(`snapshot=${r.snapshot.meta.term}/${r.snapshot.meta.index}`);
  if (r.entries.length > 0) parts.push(`entries=${r.entries.length}@${r.entries[0].index}`);
  if (r.committedEntries.length > 0) parts.push(`committed=${r.committedEntries.length}@${r.committedEntries[0].index}`);
  if (r.messages.length > 0) parts.push(`messages=${r.messages.length}`);
  if (r.readStates.length > 0) parts.push(`reads=${r.readStates.length}`);
  return `Ready{${parts.join(' ')}}`;
}
