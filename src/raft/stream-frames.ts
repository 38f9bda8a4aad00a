/**
 * Framing for the Raft peer stream (see `peer-stream.ts`): each frame is a
 * u32 big-endian body length followed by the body (one protobuf
 * `cygnet.raft.MessageBatch`).
 *
 * Invariants: `FrameDecoder` returns whole frames only, in order, and never
 * buffers more than one frame plus one chunk; a declared length above its
 * bound is a `BadRequestError` (the caller drops the stream) — it never
 * allocates for a lying length.
 */
import { BadRequestError } from '../common/errors.ts';

export const FRAME_HEADER_BYTES = 4;

/** One buffer: header + body, ready for a single socket write. */
export function encodeFrame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet returned as a frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Feeds one chunk; returns the frames it completed (possibly none). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peekHeader();
      if (head > this.maxFrameBytes) throw new BadRequestError(`raft stream frame of ${head} bytes exceeds the limit of ${this.maxFrameBytes}`);
      if (this.buffered < FRAME_HEADER_BYTES + head) break;
      const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
      frames.push(all.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + head));
      const rest = all.subarray(FRAME_HEADER_BYTES + head);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  private peekHeader(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.readUInt32BE(0);
  }
}
