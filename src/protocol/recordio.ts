/**
 * RecordIO, the framing of every event stream (Mesos' `recordio`):
 *
 *   record := <length in bytes, ASCII decimal> "\n" <payload of that length>
 *
 * Invariants: the decoder returns exactly the payloads that were encoded,
 * however the byte stream is split into chunks; a record longer than its
 * bound, or a header that is not decimal digits, fails the stream with
 * BadRequestError and the decoder stays failed (a framing error cannot be
 * resynchronised). No I/O here: the HTTP shells feed chunks in.
 */

import { BadRequestError } from '../common/errors.ts';

/** Default bound on one record: far above any real event, low enough that a broken length cannot make us buffer gigabytes. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Digits in a length header; 16 covers any length a bound can allow. */
const MAX_HEADER_DIGITS = 16;

const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Frames one payload (a string is framed as its UTF-8 bytes). */
export function encodeRecord(payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.from(`${body.byteLength}\n`, 'latin1');
  return Buffer.concat([header, body]);
}

/** Incremental decoder: push chunks as they arrive, get back the records they complete. */
export class RecordIODecoder {
  readonly maxRecordBytes: number;
  private header = '';
  /** Length of the record being read, or undefined while reading a header. */
  private need: number | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private failure: BadRequestError | undefined;

  constructor(maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {
    if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 0) {
      throw new RangeError(`maxRecordBytes must be a non-negative integer, got ${maxRecordBytes}`);
    }
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Bytes received but not yet returned as a record (header digits included). */
  get buffered(): number {
    return this.header.length + this.size;
  }

  /**
   * Feeds one chunk; returns the records completed before any framing error,
   * and the error if the chunk broke the framing. Lets a reader act on the
   * good records that arrived in the same chunk as garbage.
   */
  pushSome(chunk: Uint8Array): { records: Uint8Array[]; error?: BadRequestError } {
    const records: Uint8Array[] = [];
    try {
      this.pushInto(chunk, records);
      return { records };
    } catch (err) {
      if (err instanceof BadRequestError) return { records, error: err };
      throw err;
    }
  }

  /** Feeds one chunk; returns the records it completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const records: Uint8Array[] = [];
    this.pushInto(chunk, records);
    return records;
  }

  private pushInto(chunk: Uint8Array, records: Uint8Array[]): void {
    if (this.failure !== undefined) throw this.failure;
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let off = 0;
    while (off < buf.length) {
      if (this.need === undefined) {
        off = this.readHeader(buf, off, records);
      } else {
        const take = Math.min(this.need - this.size, buf.length - off);
        this.chunks.push(buf.subarray(off, off + take));
        this.size += take;
        off += take;
        if (this.size === this.need) records.push(this.takeRecord());
      }
    }
  }

  private readHeader(buf: Buffer, start: number, records: Uint8Array[]): number {
    let off = start;
    while (off < buf.length) {
      const b = buf[off++];
      if (b === NEWLINE) {
        if (this.header === '') this.fail('empty record length');
        const length = Number(this.header);
        if (length > this.maxRecordBytes) this.fail(`record of ${length} bytes exceeds the limit of ${this.maxRecordBytes}`);
        this.header = '';
        this.need = length;
        if (length === 0) records.push(this.takeRecord());
        return off;
      }
      if (b < DIGIT_0 || b > DIGIT_9) this.fail(`expected a decimal record length, got byte 0x${b.toString(16).padStart(2, '0')}`);
      this.header += String.fromCharCode(b);
      if (this.header.length > MAX_HEADER_DIGITS) this.fail(`record length longer than ${MAX_HEADER_DIGITS} digits`);
      if (Number(this.header) > this.maxRecordBytes) {
        this.fail(`record of at least ${this.header} bytes exceeds the limit of ${this.maxRecordBytes}`);
      }
    }
    return off;
  }

  private takeRecord(): Uint8Array {
    const record = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    this.need = undefined;
    return record;
  }

  private fail(reason: string): never {
    this.failure = new BadRequestError(`Malformed RecordIO stream: ${reason}`);
    throw this.failure;
  }
}
