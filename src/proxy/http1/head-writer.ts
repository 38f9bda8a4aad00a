/**
 * Writes the heads the proxy sends, from a parsed head and the bytes it was
 * parsed from: kept field lines are copied as byte ranges (contiguous kept
 * lines in one copy), never decoded, and the result is one Buffer with
 * room left at the end for the first body bytes, so head and a small body
 * go out in one write.
 *
 * Towards a backend: the request line with HTTP/1.1 (the proxy's own hop),
 * the client's fields but hop-by-hop and X-Forwarded-*, then the caller's
 * `tail` (X-Forwarded-For/-Proto/-Host, framing, the empty line).
 * Towards a client: `HTTP/1.1` and the backend's status and reason, its
 * fields but hop-by-hop, then framing and connection fields this hop needs.
 */
import type { FieldLines } from './fields.ts';
import type { RequestHead } from './request-head.ts';
import type { ResponseHead } from './response-head.ts';

const version11 = Buffer.from(' HTTP/1.1\r\n');
const http11 = Buffer.from('HTTP/1.1');
const chunkedLine = Buffer.from('Transfer-Encoding: chunked\r\n');
const closeLine = Buffer.from('Connection: close\r\n');
const keepAliveLine = Buffer.from('Connection: keep-alive\r\n');

/** The Connection field the proxy adds towards a client. */
export const connectionNone = 0;
export const connectionClose = 1;
export const connectionKeepAlive = 2;

/**
 * Copies src[start, end) to dst at `at`; returns the bytes copied. Short
 * ranges (most of a head's pieces) are copied in a loop: Buffer#copy
 * allocates a view per call, which costs more than copying a few dozen bytes.
 */
export function copyRange(src: Buffer, start: number, end: number, dst: Buffer, at: number): number {
  const n = end - start;
  if (n > 64) return src.copy(dst, at, start, end);
  for (let i = 0; i < n; i++) dst[at + i] = src[start + i] as number;
  return n;
}

function keptBytes(f: FieldLines): number {
  let n = 0;
  for (let i = 0; i < f.count; i++) if (f.kinds[i] === 0) n += f.lineEnd(i) + 2 - f.lineStart(i);
  return n;
}

function copyKept(buf: Buffer, f: FieldLines, out: Buffer, at: number): number {
  let o = at;
  let runStart = -1;
  let runEnd = -1;
  for (let i = 0; i < f.count; i++) {
    if (f.kinds[i] !== 0) continue;
    const s = f.lineStart(i);
    if (s !== runEnd) {
      if (runStart >= 0) o += copyRange(buf, runStart, runEnd, out, o);
      runStart = s;
    }
    runEnd = f.lineEnd(i) + 2;
  }
  if (runStart >= 0) o += copyRange(buf, runStart, runEnd, out, o);
  return o;
}

/**
 * The backend's request head; `tail` ends with the empty line. The result has `reserve` free bytes at its end.
 * An absolute-form request goes on in origin-form, with the target's authority as its Host (RFC 9112 §3.2.2;
 * the client's Host fields were dropped).
 */
export function writeUpstreamHead(buf: Buffer, head: RequestHead, tail: Buffer, reserve: number): Buffer {
  const line = head.absoluteHost === undefined ? null : Buffer.from(`${buf.toString('latin1', head.start, head.targetStart)}${head.target} HTTP/1.1\r\nHost: ${head.absoluteHost}\r\n`, 'latin1');
  const lineBytes = line === null ? head.targetEnd - head.start + version11.length : line.length;
  const out = Buffer.allocUnsafe(lineBytes + keptBytes(head.fields) + tail.length + reserve);
  let o = line === null ? copyRange(buf, head.start, head.targetEnd, out, 0) : copyRange(line, 0, line.length, out, 0);
  if (line === null) o += copyRange(version11, 0, version11.length, out, o);
  o = copyKept(buf, head.fields, out, o);
  copyRange(tail, 0, tail.length, out, o);
  return out;
}

/** The client's response head. The result has `reserve` free bytes at its end. */
export function writeDownstreamHead(buf: Buffer, head: ResponseHead, chunked: boolean, connection: number, reserve: number): Buffer {
  const statusBytes = head.statusLineEnd + 2 - head.statusFrom;
  const extra = (chunked ? chunkedLine.length : 0) + (connection === connectionClose ? closeLine.length : connection === connectionKeepAlive ? keepAliveLine.length : 0);
  const size = http11.length + statusBytes + keptBytes(head.fields) + extra + 2;
  const out = Buffer.allocUnsafe(size + reserve);
  let o = copyRange(http11, 0, http11.length, out, 0);
  o += copyRange(buf, head.statusFrom, head.statusLineEnd + 2, out, o);
  o = copyKept(buf, head.fields, out, o);
  if (chunked) o += copyRange(chunkedLine, 0, chunkedLine.length, out, o);
  if (connection === connectionClose) o += copyRange(closeLine, 0, closeLine.length, out, o);
  else if (connection === connectionKeepAlive) o += copyRange(keepAliveLine, 0, keepAliveLine.length, out, o);
  out[o] = 13;
  out[o + 1] = 10;
  return out;
}

/** The fixed end of a backend's request head: X-Forwarded-*, framing, the empty line. */
export function upstreamTail(clientIp: string, forwardedFor: string | undefined, host: string, chunked: boolean): Buffer {
  const xff = forwardedFor === undefined ? clientIp : `${forwardedFor}, ${clientIp}`;
  return Buffer.from(`X-Forwarded-For: ${xff}\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: ${host}\r\n${chunked ? 'Transfer-Encoding: chunked\r\n' : ''}\r\n`, 'latin1');
}
