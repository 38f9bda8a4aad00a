/**
 * The response head parser of the proxy's HTTP/1.1 engine: a backend's
 * status line and the fields that decide framing and connection reuse
 * (Content-Length, Transfer-Encoding, Connection); hop-by-hop fields are
 * marked so the head writer leaves them out (RFC 9110 §7.6.1).
 *
 * Framing (RFC 9112 §6.3), decided by `bodyFraming` with the request's
 * method: no body for HEAD, 1xx, 204 and 304; else chunked; else
 * Content-Length; else until the backend closes. A backend that sends both
 * Content-Length and Transfer-Encoding, differing lengths, or a transfer
 * coding other than `chunked` is refused (502): the proxy would have to
 * guess where the response ends.
 *
 * Pure: one `ResponseHead` is reused per upstream exchange.
 */
import { fieldsOk, FieldLines, scanFieldLines } from './fields.ts';
import { dropNamed, fieldDrop } from './request-head.ts';
import { CR, LF, SP, equalsLower, fieldValueChar, indexOfHeadEnd, parseConnectionTokens, parseLength, type ConnectionTokens } from './syntax.ts';

/** A response head larger than this is refused (502). */
export const maxResponseHeadBytes = 64 * 1024;

export const framingNone = 0;
export const framingLength = 1;
export const framingChunked = 2;
export const framingClose = 3;


export class ResponseHead implements ConnectionTokens {
  readonly fields = new FieldLines();
  status = 0;
  /** 10 or 11. */
  version = 11;
  /** Offset of the space after `HTTP/1.x` (the status line is copied from there) and of the status line's CR. */
  statusFrom = 0;
  statusLineEnd = 0;
  end = 0;
  contentLength = -1;
  chunked = false;
  close = false;
  keepAlive = false;
  upgrade = false;
  named: string[] | null = null;
  error = '';

  /** The backend keeps the connection open after this response (its framing permitting). */
  get reusable(): boolean {
    return this.version === 11 ? !this.close : this.keepAlive && !this.close;
  }

  /** How the body is delimited, for a request with `method`. */
  bodyFraming(method: string): number {
    const s = this.status;
    if (method === 'HEAD' || s < 200 || s === 204 || s === 304) return framingNone;
    if (this.chunked) return framingChunked;
    if (this.contentLength >= 0) return framingLength;
    return framingClose;
  }

  /** Parses a head starting at `start`; returns its end offset, 0 for more bytes, -1 when malformed (`error`). */
  parse(buf: Buffer, start: number): number {
    const e = indexOfHeadEnd(buf, start);
    if (e < 0) return buf.length - start > maxResponseHeadBytes ? this.refuse(`response head over ${maxResponseHeadBytes} bytes`) : 0;
    if (e + 4 - start > maxResponseHeadBytes) return this.refuse(`response head over ${maxResponseHeadBytes} bytes`);
    this.contentLength = -1;
    this.chunked = false;
    this.close = false;
    this.keepAlive = false;
    this.upgrade = false;
    this.named = null;
    this.end = e + 4;
    // HTTP/1.x SP 3DIGIT [SP reason] CRLF
    const p = start;
    if (e - p < 12 || buf[p] !== 72 || buf[p + 1] !== 84 || buf[p + 2] !== 84 || buf[p + 3] !== 80 || buf[p + 4] !== 47 || buf[p + 5] !== 49 || buf[p + 6] !== 46) return this.refuse('malformed status line');
    const minor = buf[p + 7];
    if ((minor !== 48 && minor !== 49) || buf[p + 8] !== SP) return this.refuse('malformed status line');
    this.version = minor === 49 ? 11 : 10;
    this.statusFrom = p + 8;
    let status = 0;
    for (let i = p + 9; i < p + 12; i++) {
      const d = (buf[i] as number) - 48;
      if (d < 0 || d > 9) return this.refuse('malformed status code');
      status = status * 10 + d;
    }
    if (status < 100) return this.refuse('malformed status code');
    this.status = status;
    let i = p + 12;
    if (buf[i] === SP) {
      i++;
      while (fieldValueChar[buf[i] as number] === 1) i++;
    }
    if (buf[i] !== CR || buf[i + 1] !== LF) return this.refuse('malformed status line');
    this.statusLineEnd = i;
    if (scanFieldLines(buf, i + 2, e + 2, this.fields) !== fieldsOk) return this.refuse('malformed or too many header lines');
    return this.classifyFields(buf) === 0 ? this.end : -1;
  }

  private classifyFields(buf: Buffer): number {
    const f = this.fields;
    const kinds = f.kinds;
    let te = 0;
    for (let i = 0; i < f.count; i++) {
      const s = f.lineStart(i);
      const len = f.nameEnd(i) - s;
      const vs = f.valueStart(i);
      const ve = f.valueEnd(i);
      switch (len) {
        case 2:
          if (equalsLower(buf, s, 'te')) kinds[i] = fieldDrop;
          break;
        case 7:
          if (equalsLower(buf, s, 'upgrade') || equalsLower(buf, s, 'trailer')) kinds[i] = fieldDrop;
          break;
        case 10:
          if (equalsLower(buf, s, 'connection')) {
            kinds[i] = fieldDrop;
            parseConnectionTokens(buf, vs, ve, this);
          } else if (equalsLower(buf, s, 'keep-alive')) kinds[i] = fieldDrop;
          break;
        case 14:
          if (equalsLower(buf, s, 'content-length')) {
            const n = parseLength(buf, vs, ve);
            if (n < 0 || (this.contentLength >= 0 && this.contentLength !== n)) return this.refuse('bad or differing Content-Length');
            this.contentLength = n;
          }
          break;
        case 16:
          if (equalsLower(buf, s, 'proxy-connection')) kinds[i] = fieldDrop;
          break;
        case 17:
          if (equalsLower(buf, s, 'transfer-encoding')) {
            kinds[i] = fieldDrop;
            te++;
            if (ve - vs !== 7 || !equalsLower(buf, vs, 'chunked')) return this.refuse('a transfer coding other than chunked');
            this.chunked = true;
          }
          break;
        case 18:
          if (equalsLower(buf, s, 'proxy-authenticate')) kinds[i] = fieldDrop;
          break;
        case 19:
          if (equalsLower(buf, s, 'proxy-authorization')) kinds[i] = fieldDrop;
          break;
        default:
          break;
      }
    }
    if (te > 1) return this.refuse('several Transfer-Encoding fields');
    if (this.chunked && this.contentLength >= 0) return this.refuse('both Content-Length and Transfer-Encoding');
    if (this.named !== null) dropNamed(buf, f, this.named);
    return 0;
  }

  private refuse(why: string): -1 {
    this.error = why;
    return -1;
  }
}
