/**
 * HTTP/1.1 byte classes and the small byte-level helpers the head parsers
 * share (RFC 9110 §5.6.2 tokens, §5.5 field values; RFC 9112 §3 request
 * target). Pure, no allocation after module load.
 */

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;

/** 1 for tchar: the characters of a token (method, header name). */
export const tokenChar = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") tokenChar[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) tokenChar[c] = 1;
for (let c = 65; c <= 90; c++) tokenChar[c] = 1;
for (let c = 97; c <= 122; c++) tokenChar[c] = 1;

/** 1 for a byte allowed inside a field value: VCHAR, SP, HTAB and obs-text; never CR, LF, NUL or another control. */
export const fieldValueChar = new Uint8Array(256);
fieldValueChar[HTAB] = 1;
for (let c = 32; c <= 126; c++) fieldValueChar[c] = 1;
for (let c = 128; c <= 255; c++) fieldValueChar[c] = 1;

/** 1 for a byte allowed in a request target: visible ASCII only (no space, control or 8-bit byte). */
export const targetChar = new Uint8Array(256);
for (let c = 33; c <= 126; c++) targetChar[c] = 1;

/** Value of a hex digit, or -1. */
export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/**
 * Where the first CRLF CRLF at or after `from` starts, or -1: the end of a
 * head. Buffer#indexOf is a call into C++ that cost about 160 ns per head,
 * more than this scan; it skips ahead by the last byte of each 4-byte window
 * (Horspool), so text moves 4 bytes a step.
 */
export function indexOfHeadEnd(buf: Buffer, from: number): number {
  const n = buf.length;
  let i = from;
  while (i + 4 <= n) {
    const c = buf[i + 3] as number;
    if (c === LF) {
      if (buf[i + 2] === CR && buf[i + 1] === LF && buf[i] === CR) return i;
      i += 2;
    } else i += c === CR ? 1 : 4;
  }
  return -1;
}

/** Whether buf[start, start + lower.length) equals `lower` (lower case) with A-Z folded. */
export function equalsLower(buf: Buffer, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = buf[start + i] as number;
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The end of a field value without its trailing SP/HTAB (OWS). */
export function trimEnd(buf: Buffer, start: number, end: number): number {
  let e = end;
  while (e > start && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
  return e;
}

/** Content-Length: 1-15 digits and nothing else (a list such as `5, 5` is refused), or -1. */
export function parseLength(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = (buf[i] as number) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Connection-header tokens, lower case: what the parsers record. */
export interface ConnectionTokens {
  close: boolean;
  keepAlive: boolean;
  upgrade: boolean;
  /** Other tokens: names of headers that are hop-by-hop for this message (rare). */
  named: string[] | null;
}

/** Adds the tokens of one Connection header value to `into`; the usual single tokens are matched in place, without decoding. */
export function parseConnectionTokens(buf: Buffer, start: number, end: number, into: ConnectionTokens): void {
  const len = end - start;
  if (len === 10 && equalsLower(buf, start, 'keep-alive')) {
    into.keepAlive = true;
    return;
  }
  if (len === 5 && equalsLower(buf, start, 'close')) {
    into.close = true;
    return;
  }
  if (len === 7 && equalsLower(buf, start, 'upgrade')) {
    into.upgrade = true;
    return;
  }
  for (const raw of buf.toString('latin1', start, end).toLowerCase().split(',')) {
    const t = raw.trim();
    if (t === '') continue;
    if (t === 'close') into.close = true;
    else if (t === 'keep-alive') into.keepAlive = true;
    else if (t === 'upgrade') into.upgrade = true;
    else (into.named ??= []).push(t);
  }
}
