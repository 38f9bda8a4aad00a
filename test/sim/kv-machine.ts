/**
 * The simulator's replicated state machine: a tiny KV store with put/get/cas,
 * commands encoded as JSON. Deterministic: the same entries give the same
 * results and the same snapshot bytes on every node.
 */
import type { KvInput, KvOutput } from '../../src/lincheck/models.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface KvCommand {
  readonly opId: number;
  readonly input: KvInput;
}

export function encodeCommand(cmd: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify(cmd));
}

/** The op id alone, without parsing the whole command (the simulator reads it on every apply). */
export function opIdOf(data: Uint8Array): number {
  const m = /^\{"opId":(\d+)/.exec(dec.decode(data.subarray(0, 24)));
  return m === null ? decodeCommand(data).opId : Number(m[1]);
}

export function decodeCommand(data: Uint8Array): KvCommand {
  return JSON.parse(dec.decode(data)) as KvCommand;
}

export class KvMachine {
  private data = new Map<string, string>();

  apply(input: KvInput): KvOutput {
    const current = this.data.get(input.key) ?? '';
    switch (input.op) {
      case 'get':
        return { value: current };
      case 'put':
        this.data.set(input.key, input.value);
        return { ok: true };
      case 'append':
        this.data.set(input.key, current + input.value);
        return { ok: true };
      case 'cas':
        if (current !== input.from) return { ok: false };
        this.data.set(input.key, input.to);
        return { ok: true };
    }
  }

  get(key: string): string {
    return this.data.get(key) ?? '';
  }

  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify([...this.data.entries()].sort()));
  }

  static restore(data: Uint8Array): KvMachine {
    const m = new KvMachine();
    if (data.length > 0) for (const [k, v] of JSON.parse(dec.decode(data)) as [string, string][]) m.data.set(k, v);
    return m;
  }

  describe(): string {
    return JSON.stringify([...this.data.entries()].sort());
  }
}
