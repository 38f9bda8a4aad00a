/**
 * The request head parser of the proxy's HTTP/1.1 engine: finds the end of
 * a head in the received bytes and extracts only what routing and framing
 * need (method, target, version, Host, Connection, Content-Length,
 * Transfer-Encoding, Upgrade, Expect, X-Forwarded-For); every other field is
 * left as a byte range for the head writer to copy.
 *
 * Strict, because a proxy that frames a request differently from its
 * backend is open to request smuggling (RFC 9112 §6.3, §11.2). Refused
 * (the connection is then closed): a head over `maxHeadBytes` (431, or 414
 * when the request line alone is); a
 * malformed start or field line, bare CR/LF, obs-fold; no or several Host
 * on HTTP/1.1; Content-Length together with Transfer-Encoding; differing
 * Content-Lengths or one that is not plain digits; Transfer-Encoding on
 * HTTP/1.0 (400); a transfer coding other than exactly `chunked` (501); a
 * version other than 1.0/1.1 (505).
 *
 * Pure: one `RequestHead` is reused for every request of a connection.
 */
import { fieldsMalformed, fieldsOk, FieldLines, scanFieldLines } from './fields.ts';
import { CR, LF, SP, equalsLower, indexOfHeadEnd, parseConnectionTokens, parseLength, targetChar, tokenChar, type ConnectionTokens } from './syntax.ts';

/** A head larger than this is refused with 431 (node's default is 16 KiB, HAProxy's buffer 16 KiB, nginx's large buffers 32 KiB). */
export const maxHeadBytes = 64 * 1024;

/** What a field is to the proxy; set in `FieldLines.kinds`. */
export const fieldKeep = 0;
/** Hop-by-hop, or replaced by the proxy (X-Forwarded-Proto/-Host, Expect): not copied upstream. */
export const fieldDrop = 1;
/** X-Forwarded-For: not copied, its value is extended with the client's address. */
export const fieldForwardedFor = 2;

const crlf = Buffer.from('\r\n');

export class RequestHead implements ConnectionTokens {
  readonly fields = new FieldLines();
  /** Offset of the method (after leading empty lines), of the byte after the target, and of the head's end (after CRLFCRLF). */
  start = 0;
  targetStart = 0;
  targetEnd = 0;
  end = 0;
  method = '';
  /** 10 or 11. */
  version = 11;
  host: string | undefined = undefined;
  /** -1: no Content-Length. */
  contentLength = -1;
  chunked = false;
  close = false;
  keepAlive = false;
  upgrade = false;
  named: string[] | null = null;
  /** The Upgrade field's value (a protocol switch needs it and Connection: upgrade). */
  upgradeProtocol: string | undefined = undefined;
  expectContinue = false;
  /** X-Forwarded-For values the client sent, joined; undefined when none. */
  forwardedFor: string | undefined = undefined;
  /**
   * The authority of an absolute-form target (`GET http://web.cygnet/a HTTP/1.1`,
   * what a client configured with this proxy as its HTTP proxy sends); undefined
   * for origin-form. RFC 9112 §3.2.2: it replaces the Host field, and the request
   * goes on in origin-form (`pathStart`).
   */
  absoluteHost: string | undefined = undefined;
  /** Where an absolute-form target's path starts (its end is `targetEnd`; empty or `?…` means `/` goes first). */
  pathStart = 0;
  /** Why the head was refused, for the 4xx body. */
  error = '';
  /** The bytes of the last head parsed, and its target once decoded (routing by host alone never needs it). */
  private source: Buffer = Buffer.alloc(0);
  private targetText: string | null = null;

  /** The request target in origin-form (an absolute-form target's path), decoded on first use. */
  get target(): string {
    if (this.targetText !== null) return this.targetText;
    if (this.absoluteHost === undefined) return (this.targetText = this.source.toString('latin1', this.targetStart, this.targetEnd));
    const path = this.source.toString('latin1', this.pathStart, this.targetEnd);
    return (this.targetText = path.startsWith('/') ? path : `/${path}`);
  }

  /** The target is a path: origin-form, or absolute-form (which is forwarded as its path); checked without decoding it. */
  get isOriginForm(): boolean {
    return this.source[this.targetStart] === 47 || this.absoluteHost !== undefined;
  }

  /** A protocol switch (WebSocket): handled as a tunnel, not a request. */
  get isUpgrade(): boolean {
    return this.upgrade && this.upgradeProtocol !== undefined;
  }

  /** The client wants the connection kept after this exchange. */
  get keepsAlive(): boolean {
    return this.version === 11 ? !this.close : this.keepAlive && !this.close;
  }

  get hasBody(): boolean {
    return this.chunked || this.contentLength > 0;
  }

  /** The last Host decoded: a connection's requests nearly always repeat it, and the same string lets callers cache by it. */
  private lastHost: string | undefined = undefined;

  private reset(): void {
    this.host = undefined;
    this.contentLength = -1;
    this.chunked = false;
    this.close = false;
    this.keepAlive = false;
    this.upgrade = false;
    this.named = null;
    this.upgradeProtocol = undefined;
    this.expectContinue = false;
    this.forwardedFor = undefined;
    this.absoluteHost = undefined;
    this.error = '';
  }

  /** The fields as node's rawHeaders (`[name, value, …]`), for the rare paths (upgrades) that want strings. */
  rawHeaders(buf: Buffer): string[] {
    const f = this.fields;
    const absolute = this.absoluteHost;
    const out: string[] = absolute === undefined ? [] : ['Host', absolute];
    for (let i = 0; i < f.count; i++) {
      // An absolute-form target's authority replaced the client's Host.
      if (absolute !== undefined && f.nameEnd(i) - f.lineStart(i) === 4 && equalsLower(buf, f.lineStart(i), 'host')) continue;
      out.push(buf.toString('latin1', f.lineStart(i), f.nameEnd(i)), buf.toString('latin1', f.valueStart(i), f.valueEnd(i)));
    }
    return out;
  }

  /**
   * Parses the head at the start of `buf`. Returns the offset just after it
   * (> 0), 0 when more bytes are needed, or minus the HTTP status to refuse
   * it with (`error` says why). `scanned`: how much of `buf` an earlier call
   * (that returned 0) already searched for the head's end.
   */
  parse(buf: Buffer, scanned = 0): number {
    let p = 0;
    // RFC 9112 §2.2: ignore empty lines before the request line.
    while (buf[p] === CR && buf[p + 1] === LF) p += 2;
    if (p + 1 >= buf.length && buf[p] === CR) return 0;
    const e = indexOfHeadEnd(buf, Math.max(p, scanned - 3));
    if (e < 0) {
      if (buf.length - p > maxHeadBytes) return this.refuseTooLarge(buf, p);
      return 0;
    }
    if (e + 4 - p > maxHeadBytes) return this.refuseTooLarge(buf, p);
    this.reset();
    this.source = buf;
    this.targetText = null;
    this.start = p;
    this.end = e + 4;
    const lineEnd = this.parseRequestLine(buf, p, e + 2);
    if (lineEnd < 0) return lineEnd;
    const fields = scanFieldLines(buf, lineEnd + 2, e + 2, this.fields);
    if (fields !== fieldsOk) return fields === fieldsMalformed ? this.refuse(400, 'malformed header line') : this.refuse(431, 'too many header lines');
    const status = this.classifyFields(buf);
    if (status !== 0) return status;
    return this.end;
  }

  /** Method SP target SP HTTP/1.x CRLF; returns the index of the CR, or a refusal. */
  private parseRequestLine(buf: Buffer, p: number, stop: number): number {
    let i = p;
    while (tokenChar[buf[i] as number] === 1) i++;
    if (i === p || buf[i] !== SP) return this.refuse(400, 'malformed request line');
    this.method = methodName(buf, p, i);
    this.targetStart = ++i;
    while (targetChar[buf[i] as number] === 1) i++;
    if (i === this.targetStart || buf[i] !== SP) return this.refuse(400, 'malformed request target');
    this.targetEnd = i;
    if (buf[this.targetStart] !== 47 && isHttpScheme(buf, this.targetStart, i)) {
      const status = this.parseAuthority(buf, this.targetStart + httpScheme.length, i);
      if (status < 0) return status;
    }
    i++;
    if (i + 10 > stop || buf[i + 8] !== CR || buf[i + 9] !== LF || !equalsHttpSlash(buf, i)) return this.refuse(400, 'malformed request line');
    const major = (buf[i + 5] as number) - 48;
    const dot = buf[i + 6];
    const minor = (buf[i + 7] as number) - 48;
    if (dot !== 46 || major < 0 || major > 9 || minor < 0 || minor > 9) return this.refuse(400, 'malformed HTTP version');
    if (major !== 1) return this.refuse(505, `HTTP/${major}.${minor} is not supported; send HTTP/1.1`);
    // RFC 9112 §2.3: a later 1.x minor version is read as 1.1, the highest this proxy speaks.
    this.version = minor === 0 ? 10 : 11;
    return i + 8;
  }

  /** An absolute-form target's authority (from `a` to the path, query or end at `end`); 0 or a refusal. */
  private parseAuthority(buf: Buffer, a: number, end: number): number {
    let i = a;
    while (i < end && buf[i] !== 47 && buf[i] !== 63) {
      // RFC 9110 §4.2.4: userinfo in an http URI is deprecated, and a proxy must not forward it.
      if (buf[i] === 64) return this.refuse(400, 'a request target with userinfo (user@host) is not accepted');
      i++;
    }
    if (i === a) return this.refuse(400, 'absolute-form request target without a host');
    this.absoluteHost = buf.toString('latin1', a, i);
    this.pathStart = i;
    return 0;
  }

  /** Reads the fields routing and framing depend on; returns 0 or a refusal. */
  private classifyFields(buf: Buffer): number {
    const f = this.fields;
    const kinds = f.kinds;
    let hosts = 0;
    let transferEncodings = 0;
    for (let i = 0; i < f.count; i++) {
      const s = f.lineStart(i);
      const len = f.nameEnd(i) - s;
      const vs = f.valueStart(i);
      const ve = f.valueEnd(i);
      switch (len) {
        case 2:
          if (equalsLower(buf, s, 'te')) kinds[i] = fieldDrop;
          break;
        case 4:
          if (equalsLower(buf, s, 'host')) {
            hosts++;
            if (this.absoluteHost !== undefined) kinds[i] = fieldDrop; // replaced by the target's authority (RFC 9112 §3.2.2)
            else this.host = sameText(buf, vs, ve, this.lastHost) ? this.lastHost : (this.lastHost = buf.toString('latin1', vs, ve));
          }
          break;
        case 6:
          if (equalsLower(buf, s, 'expect')) {
            kinds[i] = fieldDrop;
            if (ve - vs === 12 && equalsLower(buf, vs, '100-continue')) this.expectContinue = true;
            else return this.refuse(417, 'only Expect: 100-continue is supported');
          }
          break;
        case 7:
          if (equalsLower(buf, s, 'upgrade')) {
            kinds[i] = fieldDrop;
            this.upgradeProtocol = buf.toString('latin1', vs, ve);
          } else if (equalsLower(buf, s, 'trailer')) kinds[i] = fieldDrop;
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
            if (n < 0) return this.refuse(400, 'Content-Length is not a number');
            if (this.contentLength >= 0 && this.contentLength !== n) return this.refuse(400, 'differing Content-Length fields');
            this.contentLength = n;
          }
          break;
        case 15:
          if (equalsLower(buf, s, 'x-forwarded-for')) {
            kinds[i] = fieldForwardedFor;
            const v = buf.toString('latin1', vs, ve);
            this.forwardedFor = this.forwardedFor === undefined ? v : `${this.forwardedFor}, ${v}`;
          }
          break;
        case 16:
          if (equalsLower(buf, s, 'x-forwarded-host') || equalsLower(buf, s, 'proxy-connection')) kinds[i] = fieldDrop;
          break;
        case 17:
          if (equalsLower(buf, s, 'transfer-encoding')) {
            kinds[i] = fieldDrop;
            transferEncodings++;
            if (ve - vs !== 7 || !equalsLower(buf, vs, 'chunked')) return this.refuse(501, 'the only transfer coding accepted is chunked');
            this.chunked = true;
          } else if (equalsLower(buf, s, 'x-forwarded-proto')) kinds[i] = fieldDrop;
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
    if (this.version === 11 && hosts !== 1) return this.refuse(400, hosts === 0 ? 'no Host header' : 'several Host headers');
    if (hosts > 1) return this.refuse(400, 'several Host headers');
    if (this.absoluteHost !== undefined) this.host = this.absoluteHost;
    if (transferEncodings > 1) return this.refuse(400, 'several Transfer-Encoding fields');
    if (this.chunked && this.contentLength >= 0) return this.refuse(400, 'both Content-Length and Transfer-Encoding');
    if (this.chunked && this.version === 10) return this.refuse(400, 'Transfer-Encoding on HTTP/1.0');
    if (this.named !== null) dropNamed(buf, f, this.named);
    return 0;
  }

  /** A head over the limit: 414 when the request line alone is (RFC 9112 §3), else 431. */
  private refuseTooLarge(buf: Buffer, p: number): number {
    const lineEnd = buf.indexOf(crlf, p);
    if (lineEnd < 0 || lineEnd - p > maxHeadBytes) return this.refuse(414, `request line over ${maxHeadBytes} bytes`);
    return this.refuse(431, `request head over ${maxHeadBytes} bytes`);
  }

  private refuse(status: number, why: string): number {
    this.error = why;
    return -status;
  }
}

/** Marks the fields a Connection header named as hop-by-hop. */
export function dropNamed(buf: Buffer, f: FieldLines, named: readonly string[]): void {
  for (let i = 0; i < f.count; i++) {
    const s = f.lineStart(i);
    const len = f.nameEnd(i) - s;
    for (const name of named) if (name.length === len && equalsLower(buf, s, name)) f.kinds[i] = fieldDrop;
  }
}

function sameText(buf: Buffer, start: number, end: number, text: string | undefined): text is string {
  if (text === undefined || text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (buf[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

function equalsHttpSlash(buf: Buffer, i: number): boolean {
  return buf[i] === 72 && buf[i + 1] === 84 && buf[i + 2] === 84 && buf[i + 3] === 80 && buf[i + 4] === 47;
}

/** The common methods as shared strings (no allocation); others decoded. Methods are case-sensitive. */
function methodName(buf: Buffer, s: number, e: number): string {
  const len = e - s;
  const c = buf[s];
  if (len === 3 && c === 71 && buf[s + 1] === 69 && buf[s + 2] === 84) return 'GET';
  if (len === 4 && c === 80 && buf[s + 1] === 79 && buf[s + 2] === 83 && buf[s + 3] === 84) return 'POST';
  if (len === 4 && c === 72 && buf[s + 1] === 69 && buf[s + 2] === 65 && buf[s + 3] === 68) return 'HEAD';
  return buf.toString('latin1', s, e);
}

const httpScheme = 'http://';

/** buf[start, end) begins with `http://`, the scheme case-insensitive (RFC 9110 §4.2.3). */
function isHttpScheme(buf: Buffer, start: number, end: number): boolean {
  return end - start > httpScheme.length && equalsLower(buf, start, httpScheme);
}
