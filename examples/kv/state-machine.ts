/**
 * The replicated key-value state machine of examples/kv, and its command
 * encoding. Deterministic; no I/O.
 *
 * Command (binary, one Raft entry):
 *   put: 0x01 | u32 keyLen | key | value
 *   cas: 0x02 | u32 keyLen | key | u32 fromLen | from | to
 * A missing key compares equal to the empty value in a cas (the
 * linearizability model's convention: an absent key reads as '').
 *
 * Snapshot: u32 count | (u32 keyLen | key | u32 valueLen | value)*, keys sorted.
 */
import type { AppliedEntry, StateMachine } from '../../src/raft/node.ts';

export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly op: 'cas'; readonly key: string; readonly from: Uint8Array; readonly to: Uint8Array };

export type KvResult = { readonly op: 'put' } | { readonly op: 'cas'; readonly swapped: boolean };

export function encodeCommand(c: KvCommand): Uint8Array {
  const key = Buffer.from(c.key, 'utf8');
  if (c.op === 'put') {
    const out = Buffer.allocUnsafe(5 + key.length + c.value.length);
    out[0] = 1;
    out.writeUInt32LE(key.length, 1);
    key.copy(out, 5);
    out.set(c.value, 5 + key.length);
    return out;
  }
  const out = Buffer.allocUnsafe(9 + key.length + c.from.length + c.to.length);
  out[0] = 2;
  out.writeUInt32LE(key.length, 1);
  key.copy(out, 5);
  out.writeUInt32LE(c.from.length, 5 + key.length);
  out.set(c.from, 9 + key.length);
  out.set(c.to, 9 + key.length + c.from.length);
  return out;
}

export function decodeCommand(data: Uint8Array): KvCommand {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (b.length < 5) throw new Error(`kv command too short (${b.length} bytes)`);
  const keyLen = b.readUInt32LE(1);
  if (5 + keyLen > b.length) throw new Error('kv command key length out of range');
  const key = b.subarray(5, 5 + keyLen).toString('utf8');
  if (b[0] === 1) return { op: 'put', key, value: b.subarray(5 + keyLen) };
  if (b[0] === 2) {
    const at = 5 + keyLen;
    if (at + 4 > b.length) throw new Error('kv cas command truncated');
    const fromLen = b.readUInt32LE(at);
    if (at + 4 + fromLen > b.length) throw new Error('kv cas from length out of range');
    return { op: 'cas', key, from: b.subarray(at + 4, at + 4 + fromLen), to: b.subarray(at + 4 + fromLen) };
  }
  throw new Error(`unknown kv command type ${b[0]}`);
}

export class KvStateMachine implements StateMachine<KvResult> {
  private data = new Map<string, Buffer>();
  /** Index and term of the last applied entry (for tests and status). */
  lastApplied = { index: 0, term: 0 };

  get(key: string): Buffer | undefined {
    return this.data.get(key);
  }

  get size(): number {
    return this.data.size;
  }

  apply(entry: AppliedEntry): KvResult {
    this.lastApplied = { index: entry.index, term: entry.term };
    const c = decodeCommand(entry.data);
    if (c.op === 'put') {
      this.data.set(c.key, Buffer.from(c.value));
      return { op: 'put' };
    }
    const cur = this.data.get(c.key) ?? Buffer.alloc(0);
    if (!cur.equals(c.from)) return { op: 'cas', swapped: false };
    this.data.set(c.key, Buffer.from(c.to));
    return { op: 'cas', swapped: true };
  }

  snapshot(): Uint8Array {
    const keys = [...this.data.keys()].sort();
    const parts: Buffer[] = [Buffer.alloc(4)];
    (parts[0] as Buffer).writeUInt32LE(keys.length, 0);
    for (const k of keys) {
      const kb = Buffer.from(k, 'utf8');
      const v = this.data.get(k) as Buffer;
      const h = Buffer.allocUnsafe(4);
      h.writeUInt32LE(kb.length, 0);
      const vh = Buffer.allocUnsafe(4);
      vh.writeUInt32LE(v.length, 0);
      parts.push(h, kb, vh, v);
    }
    return Buffer.concat(parts);
  }

  restore(snapshot: Uint8Array): void {
    const b = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
    const next = new Map<string, Buffer>();
    if (b.length >= 4) {
      const n = b.readUInt32LE(0);
      let off = 4;
      for (let i = 0; i < n; i++) {
        const kl = b.readUInt32LE(off);
        const k = b.subarray(off + 4, off + 4 + kl).toString('utf8');
        off += 4 + kl;
        const vl = b.readUInt32LE(off);
        next.set(k, Buffer.from(b.subarray(off + 4, off + 4 + vl)));
        off += 4 + vl;
      }
    }
    this.data = next;
  }
}
