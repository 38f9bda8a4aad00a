/**
 * A strict scanner of chunked framing (RFC 9112 §7.1), fed the bytes of a
 * body as they arrive. The proxy relays chunked bodies byte for byte (the
 * receiver sees the sender's framing), so the scanner's job is to find
 * where the message ends, to refuse framing a backend (or a client) could
 * read differently, and, for an HTTP/1.0 client, to hand out the payload
 * without the framing.
 *
 * Refused: a chunk size that is not 1-13 hex digits (no sign, no space, no
 * `0x`), a size line or a chunk not ended by CRLF, bare CR or LF, control
 * bytes in an extension or trailer, a size line over `maxSizeLineBytes`,
 * trailers over `maxTrailerBytes`.
 *
 *   size ──hex──▶ size ──;/SP──▶ ext ──CR──▶ sizeLf ──LF──▶ data (n > 0) ──n bytes──▶ dataCr ─CR─▶ dataLf ─LF─▶ size
 *                                                       └──▶ trailer (n = 0): lines until an empty one ──▶ done
 *
 * Pure: no I/O; one instance per body, `reset` for the next.
 */
import { CR, fieldValueChar, hexValue, HTAB, LF, SP, tokenChar } from './syntax.ts';

/** A chunk size line (size and extensions) longer than this is refused: no legitimate sender needs more. */
export const maxSizeLineBytes = 4096;
/** Trailer section bytes at most. */
export const maxTrailerBytes = 64 * 1024;
/** 13 hex digits: sizes up to 2^52, exact in a double. */
const maxSizeDigits = 13;

const stSize = 0;
const stExt = 1;
const stSizeLf = 2;
const stData = 3;
const stDataCr = 4;
const stDataLf = 5;
const stTrailerLineStart = 6;
const stTrailer = 7;
const stTrailerLf = 8;
const stFinalLf = 9;
const stDone = 10;
const stError = 11;

/** Receives payload byte ranges when the scanner decodes (for an HTTP/1.0 receiver). */
export type ChunkSink = (buf: Buffer, start: number, end: number) => void;

export class ChunkedScanner {
  private state = stSize;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  private trailerColon = false;
  error = '';

  get done(): boolean {
    return this.state === stDone;
  }

  reset(): void {
    this.state = stSize;
    this.size = 0;
    this.digits = 0;
    this.lineBytes = 0;
    this.trailerBytes = 0;
    this.error = '';
  }

  /**
   * Scans buf[start, end). Returns the offset where scanning stopped: `end`
   * when everything was consumed, less when the body ended inside the range
   * (`done`), -1 when the framing is invalid (`error`). `sink` receives the
   * payload ranges.
   */
  feed(buf: Buffer, start: number, end: number, sink?: ChunkSink): number {
    let i = start;
    while (i < end) {
      switch (this.state) {
        case stData: {
          const take = Math.min(this.size, end - i);
          if (sink !== undefined) sink(buf, i, i + take);
          this.size -= take;
          i += take;
          if (this.size === 0) this.state = stDataCr;
          break;
        }
        case stSize: {
          const c = buf[i] as number;
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.digits > maxSizeDigits) return this.fail('chunk size too large');
            this.size = this.size * 16 + h;
          } else if (this.digits === 0) {
            return this.fail('chunk size is not hex');
          } else if (c === CR) {
            this.state = stSizeLf;
          } else if (c === 59 /* ; */ || c === SP || c === HTAB) {
            this.state = stExt;
          } else {
            return this.fail('chunk size is not hex');
          }
          if (++this.lineBytes > maxSizeLineBytes) return this.fail('chunk size line too long');
          i++;
          break;
        }
        case stExt: {
          const c = buf[i] as number;
          if (c === CR) this.state = stSizeLf;
          else if (fieldValueChar[c] !== 1) return this.fail('control byte in a chunk extension');
          if (++this.lineBytes > maxSizeLineBytes) return this.fail('chunk size line too long');
          i++;
          break;
        }
        case stSizeLf:
          if (buf[i] !== LF) return this.fail('chunk size line not ended by CRLF');
          i++;
          this.lineBytes = 0;
          this.digits = 0;
          this.state = this.size === 0 ? stTrailerLineStart : stData;
          break;
        case stDataCr:
          if (buf[i] !== CR) return this.fail('chunk not followed by CRLF');
          i++;
          this.state = stDataLf;
          break;
        case stDataLf:
          if (buf[i] !== LF) return this.fail('chunk not followed by CRLF');
          i++;
          this.size = 0;
          this.state = stSize;
          break;
        case stTrailerLineStart:
          if (buf[i] === CR) {
            i++;
            this.state = stFinalLf;
            break;
          }
          if (tokenChar[buf[i] as number] !== 1) return this.fail('malformed trailer line');
          this.trailerColon = false;
          this.state = stTrailer;
          break;
        case stTrailer: {
          const c = buf[i] as number;
          if (c === CR) {
            if (!this.trailerColon) return this.fail('malformed trailer line');
            this.state = stTrailerLf;
          } else if (c === 58 /* : */) this.trailerColon = true;
          else if (fieldValueChar[c] !== 1) return this.fail('control byte in a trailer');
          if (++this.trailerBytes > maxTrailerBytes) return this.fail('trailers too large');
          i++;
          break;
        }
        case stTrailerLf:
          if (buf[i] !== LF) return this.fail('trailer line not ended by CRLF');
          i++;
          this.state = stTrailerLineStart;
          break;
        case stFinalLf:
          if (buf[i] !== LF) return this.fail('chunked body not ended by CRLF');
          this.state = stDone;
          return i + 1;
        default:
          return -1;
      }
    }
    return i;
  }

  private fail(why: string): -1 {
    this.error = why;
    this.state = stError;
    return -1;
  }
}
