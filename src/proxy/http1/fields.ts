/**
 * The header section of an HTTP/1.1 head, scanned in place: for each field
 * line, where its name and value start and end in the received bytes.
 * Nothing is copied or decoded here; the request and response parsers
 * classify the fields by name afterwards, and the head writers copy kept
 * lines as byte ranges.
 *
 * Strict, as a proxy must be (RFC 9112 §5, §2.2): a line ends in CRLF (a
 * bare CR or LF is an error), the name is a non-empty token directly
 * followed by ':' (whitespace before the colon, or an obs-fold line starting
 * with whitespace, is an error), the value holds no control character but
 * HTAB. A smuggling attempt that hides a second header in a folded or
 * oddly-terminated line is therefore refused, not guessed at.
 */
import { COLON, CR, fieldValueChar, HTAB, LF, SP, tokenChar, trimEnd } from './syntax.ts';

/** Field lines per head at most: HAProxy's default is 101; beyond this the head is refused (431). */
export const maxFieldLines = 256;

/** Per field: line start, name end, value start, value end (OWS trimmed), line end (the CR). */
const stride = 5;

/**
 * Fields a parser has room for before it grows: most heads have fewer, and
 * every connection owns a request and a response parser, so room for
 * `maxFieldLines` up front (5 KiB, zeroed, off V8's heap) was a measurable
 * part of what a new connection costs.
 */
const initialFieldLines = 16;

export class FieldLines {
  count = 0;
  offsets = new Int32Array(initialFieldLines * stride);
  /** Per field, a classification the message parser sets (see request-head.ts / response-head.ts). */
  kinds = new Uint8Array(initialFieldLines);

  /** Room for twice as many fields (up to maxFieldLines), keeping those scanned. */
  grow(): void {
    const room = Math.min(maxFieldLines, this.kinds.length * 2);
    const offsets = new Int32Array(room * stride);
    offsets.set(this.offsets);
    const kinds = new Uint8Array(room);
    kinds.set(this.kinds);
    this.offsets = offsets;
    this.kinds = kinds;
  }

  lineStart(i: number): number { return this.offsets[i * stride] as number; }
  nameEnd(i: number): number { return this.offsets[i * stride + 1] as number; }
  valueStart(i: number): number { return this.offsets[i * stride + 2] as number; }
  valueEnd(i: number): number { return this.offsets[i * stride + 3] as number; }
  /** Index of the line's CR; the line with its CRLF is [lineStart, lineEnd + 2). */
  lineEnd(i: number): number { return this.offsets[i * stride + 4] as number; }
}

/** Scan results besides the offsets. */
export const fieldsOk = 0;
export const fieldsMalformed = -1;
export const fieldsTooMany = -2;

/**
 * Scans field lines from `p` (the byte after the start line's CRLF) up to
 * `stop` (the CR of the empty line that ends the head). Returns fieldsOk,
 * fieldsMalformed or fieldsTooMany.
 */
export function scanFieldLines(buf: Buffer, p: number, stop: number, out: FieldLines): number {
  let o = out.offsets;
  let n = 0;
  let i = p;
  while (i < stop) {
    if (n === maxFieldLines) return fieldsTooMany;
    if (n === out.kinds.length) {
      out.grow();
      o = out.offsets;
    }
    const lineStart = i;
    while (tokenChar[buf[i] as number] === 1) i++;
    if (i === lineStart || buf[i] !== COLON) return fieldsMalformed;
    const nameEnd = i;
    i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const valueStart = i;
    while (fieldValueChar[buf[i] as number] === 1) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF || i > stop) return fieldsMalformed;
    const k = n * stride;
    o[k] = lineStart;
    o[k + 1] = nameEnd;
    o[k + 2] = valueStart;
    o[k + 3] = trimEnd(buf, valueStart, i);
    o[k + 4] = i;
    out.kinds[n] = 0;
    n++;
    i += 2;
  }
  out.count = n;
  return i === stop ? fieldsOk : fieldsMalformed;
}
