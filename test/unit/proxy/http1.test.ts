/**
 * The proxy's HTTP/1.1 engine parsers: what a request head must look like to
 * be forwarded, the smuggling shapes that must be refused, chunked framing
 * edge cases, response framing, and the heads the proxy writes.
 */
import { expect } from 'chai';
import { ChunkedScanner, maxSizeLineBytes } from '../../../src/proxy/http1/chunked.ts';
import { connectionClose, upstreamTail, writeDownstreamHead, writeUpstreamHead } from '../../../src/proxy/http1/head-writer.ts';
import { maxHeadBytes, RequestHead } from '../../../src/proxy/http1/request-head.ts';
import { framingChunked, framingClose, framingLength, framingNone, ResponseHead } from '../../../src/proxy/http1/response-head.ts';
import { indexOfHeadEnd } from '../../../src/proxy/http1/syntax.ts';

function parse(text: string | Buffer): { r: number; h: RequestHead } {
  const h = new RequestHead();
  return { r: h.parse(typeof text === 'string' ? Buffer.from(text, 'latin1') : text), h };
}

const ok = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

describe('proxy HTTP/1.1 end-of-head search', () => {
  it('finds the first CRLF CRLF where Buffer#indexOf does, for every start and near-miss', () => {
    const cases = ['', '\r\n\r\n', 'a\r\n\r\n', 'ab\r\n\r\nc', '\r\r\n\r\n', '\n\r\n\r\n', '\r\n\r\r\n\r\n', 'x\r\n\n\r\n\r\n', '\r\n\r', '\r\n\n\r', 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n\r\n', 'no end at all\r\n'];
    for (const text of cases) {
      const buf = Buffer.from(text, 'latin1');
      for (let from = 0; from <= buf.length; from++) {
        expect(indexOfHeadEnd(buf, from), `${JSON.stringify(text)} from ${from}`).to.equal(buf.indexOf('\r\n\r\n', from));
      }
    }
  });

  it('agrees with Buffer#indexOf on random bytes drawn from CR, LF and text', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const alphabet = [13, 10, 97, 32];
    for (let n = 0; n < 2000; n++) {
      const buf = Buffer.from(Array.from({ length: next() % 40 }, () => alphabet[next() % alphabet.length] as number));
      const from = buf.length === 0 ? 0 : next() % buf.length;
      expect(indexOfHeadEnd(buf, from), JSON.stringify(buf.toString('latin1'))).to.equal(buf.indexOf('\r\n\r\n', from));
    }
  });
});

describe('proxy HTTP/1.1 request head parser', () => {
  it('parses a plain GET and extracts only what routing and framing need', () => {
    const text = ok(['GET /a/b?c=1 HTTP/1.1', 'Host: Web.Cygnet:8000', 'Accept: */*']);
    const { r, h } = parse(`${text}GET /next HTTP/1.1\r\n`);
    expect(r).to.equal(Buffer.byteLength(text));
    expect(h).to.include({ method: 'GET', target: '/a/b?c=1', version: 11, host: 'Web.Cygnet:8000', contentLength: -1, chunked: false, keepsAlive: true, isUpgrade: false });
  });

  it('waits for more bytes until the head is complete, skipping empty lines before it', () => {
    expect(parse('GET / HTTP/1.1\r\nHost: a\r\n').r).to.equal(0);
    expect(parse('\r\n').r).to.equal(0);
    const { r, h } = parse(`\r\n\r\n${ok(['POST /x HTTP/1.0', 'Content-Length: 3'])}abc`);
    expect(r).to.be.greaterThan(0);
    expect(h).to.include({ method: 'POST', version: 10, contentLength: 3, keepsAlive: false, host: undefined });
  });

  it('reads a later HTTP/1.x minor version as HTTP/1.1 (RFC 9112 §2.3)', () => {
    const { r, h } = parse(ok(['GET / HTTP/1.2', 'Host: a']));
    expect(r).to.be.greaterThan(0);
    expect(h).to.include({ version: 11, keepsAlive: true });
    expect(parse(ok(['GET / HTTP/1.9'])).r, 'and so needs a Host').to.equal(-400);
  });

  it('reads Connection tokens: close, keep-alive on HTTP/1.0, upgrade, and headers it names', () => {
    expect(parse(ok(['GET / HTTP/1.1', 'Host: a', 'Connection: close'])).h.keepsAlive).to.equal(false);
    expect(parse(ok(['GET / HTTP/1.0', 'Connection: Keep-Alive'])).h.keepsAlive).to.equal(true);
    const up = parse(ok(['GET /ws HTTP/1.1', 'Host: a', 'Connection: keep-alive, Upgrade', 'Upgrade: websocket'])).h;
    expect(up.isUpgrade).to.equal(true);
    expect(parse(ok(['GET / HTTP/1.1', 'Host: a', 'Upgrade: websocket'])).h.isUpgrade, 'Upgrade without Connection: upgrade').to.equal(false);
    expect(parse(ok(['GET / HTTP/1.1', 'Host: a', 'Connection: X-A, x-b'])).h.named).to.deep.equal(['x-a', 'x-b']);
  });

  const refusals: [string, string, number][] = [
    ['garbage', 'GARBAGE\r\n\r\n', 400],
    ['no version', 'GET /\r\n\r\n', 400],
    ['HTTP/9.9', ok(['GET / HTTP/9.9', 'Host: a']), 505],
    ['HTTP/2.0 in a 1.x request line', ok(['GET / HTTP/2.0', 'Host: a']), 505],
    ['lower-case version', ok(['GET / http/1.1', 'Host: a']), 400],
    ['two spaces in the request line', ok(['GET  / HTTP/1.1', 'Host: a']), 400],
    ['a space in the target', ok(['GET /a b HTTP/1.1', 'Host: a']), 400],
    ['an 8-bit byte in the target', ok(['GET /\xe9 HTTP/1.1', 'Host: a']), 400],
    ['no Host on HTTP/1.1', ok(['GET / HTTP/1.1']), 400],
    ['two Hosts', ok(['GET / HTTP/1.1', 'Host: a', 'Host: b']), 400],
    ['space before the colon', ok(['GET / HTTP/1.1', 'Host: a', 'Content-Length : 5']), 400],
    ['obs-fold', ok(['GET / HTTP/1.1', 'Host: a', 'X-A: b', ' folded']), 400],
    ['bare LF inside the head', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 400],
    ['bare CR inside a value', 'GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n', 400],
    ['NUL in a value', ok(['GET / HTTP/1.1', 'Host: a', 'X: \u0000']), 400],
    ['empty field name', ok(['GET / HTTP/1.1', 'Host: a', ': v']), 400],
    ['CL and TE', ok(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Transfer-Encoding: chunked']), 400],
    ['TE and CL', ok(['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 0']), 400],
    ['differing CLs', ok(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 6']), 400],
    ['a CL list', ok(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 5, 5']), 400],
    ['a negative CL', ok(['POST / HTTP/1.1', 'Host: a', 'Content-Length: -1']), 400],
    ['a signed CL', ok(['POST / HTTP/1.1', 'Host: a', 'Content-Length: +5']), 400],
    ['a hex CL', ok(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 0x5']), 400],
    ['a huge CL', ok(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 99999999999999999999']), 400],
    ['TE twice', ok(['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']), 400],
    ['TE: chunked, chunked', ok(['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked, chunked']), 501],
    ['TE: gzip, chunked', ok(['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked']), 501],
    ['TE: xchunked', ok(['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: xchunked']), 501],
    ['TE: identity', ok(['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: identity']), 501],
    ['TE on HTTP/1.0', ok(['POST / HTTP/1.0', 'Transfer-Encoding: chunked']), 400],
    ['TE with a vertical tab', ok(['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: \u000bchunked']), 400],
    ['Expect other than 100-continue', ok(['POST / HTTP/1.1', 'Host: a', 'Expect: 200-ok']), 417],
  ];
  for (const [what, text, status] of refusals) {
    it(`refuses ${what} with ${status}`, () => {
      const { r, h } = parse(text);
      expect(r, h.error).to.equal(-status);
      expect(h.error).to.not.equal('');
    });
  }

  it('accepts repeated identical Content-Lengths and case-insensitive names and chunked', () => {
    expect(parse(ok(['POST / HTTP/1.1', 'host: a', 'content-length: 5', 'CONTENT-LENGTH: 5'])).h.contentLength).to.equal(5);
    expect(parse(ok(['POST / HTTP/1.1', 'Host: a', 'transfer-encoding: Chunked'])).h.chunked).to.equal(true);
  });

  it('refuses heads over the limit with 431 (414 for a request line over it), and too many header lines', () => {
    // A request line longer than the limit is a URI too long (RFC 9112 §3), complete or not.
    const longTarget = `GET /${'a'.repeat(maxHeadBytes)} HTTP/1.1\r\nHost: a\r\n\r\n`;
    expect(parse(longTarget).r).to.equal(-414);
    expect(parse(`GET /${'a'.repeat(maxHeadBytes)}`).r).to.equal(-414);
    expect(parse(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(maxHeadBytes)}`).r, 'incomplete but already too large').to.equal(-431);
    expect(parse(`GET / HTTP/1.1\r\nHost: a\r\n${'X-A: b\r\n'.repeat(5000)}\r\n`).r).to.equal(-431);
    // The limit is on field lines: maxFieldLines (256) pass, one more does not.
    expect(parse(ok(['GET / HTTP/1.1', 'Host: a', ...Array.from({ length: 255 }, (_, i) => `X-${i}: v`)])).r).to.be.greaterThan(0);
    expect(parse(ok(['GET / HTTP/1.1', 'Host: a', ...Array.from({ length: 256 }, (_, i) => `X-${i}: v`)])).r).to.equal(-431);
  });

  it('keeps every field of a head with many of them, in order, however often its parser grew (and reused)', () => {
    const h = new RequestHead();
    for (const count of [3, 100, 40, 250]) {
      const fields = Array.from({ length: count }, (_, i) => `X-Field-${i}: value ${i}`);
      const buf = Buffer.from(ok(['GET /many HTTP/1.1', 'Host: web', 'Connection: X-Field-1', ...fields]));
      expect(h.parse(buf)).to.equal(buf.length);
      const out = writeUpstreamHead(buf, h, upstreamTail('10.0.0.1', h.forwardedFor, h.host ?? '', false), 0).toString();
      const kept = fields.filter((_, i) => i !== 1);
      expect(out).to.equal(`GET /many HTTP/1.1\r\nHost: web\r\n${kept.map((f) => `${f}\r\n`).join('')}X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: web\r\n\r\n`);
    }
  });
});

describe('proxy HTTP/1.1 absolute-form request targets (RFC 9112 §3.2.2)', () => {
  it('takes the host from the target, ignoring the Host field, and routes by the path', () => {
    const { r, h } = parse(ok(['GET http://Web.Shop.Cygnet:8000/a/b?c=1 HTTP/1.1', 'Host: other.example', 'Accept: */*']));
    expect(r).to.be.greaterThan(0);
    expect(h).to.include({ isOriginForm: true, host: 'Web.Shop.Cygnet:8000', target: '/a/b?c=1', absoluteHost: 'Web.Shop.Cygnet:8000' });
    expect(parse(ok(['GET HTTP://web.cygnet HTTP/1.1', 'Host: web.cygnet'])).h).to.include({ host: 'web.cygnet', target: '/' });
    expect(parse(ok(['GET http://web.cygnet?q=1 HTTP/1.1', 'Host: web.cygnet'])).h.target).to.equal('/?q=1');
    // HTTP/1.0 need not send Host.
    expect(parse(ok(['GET http://web.cygnet/x HTTP/1.0'])).h).to.include({ host: 'web.cygnet', target: '/x' });
  });

  it('still wants one Host field from an HTTP/1.1 client, and refuses a target without a host or with userinfo', () => {
    expect(parse(ok(['GET http://web.cygnet/ HTTP/1.1'])).r).to.equal(-400);
    expect(parse(ok(['GET http:///x HTTP/1.1', 'Host: a'])).r).to.equal(-400);
    const u = parse(ok(['GET http://user:pw@web.cygnet/ HTTP/1.1', 'Host: web.cygnet']));
    expect(u.r).to.equal(-400);
    expect(u.h.error).to.include('userinfo');
    // Not http: left for the connection to refuse as not a path.
    expect(parse(ok(['GET https://web.cygnet/ HTTP/1.1', 'Host: web.cygnet'])).h.isOriginForm).to.equal(false);
    expect(parse(ok(['OPTIONS * HTTP/1.1', 'Host: web.cygnet'])).h.isOriginForm).to.equal(false);
  });

  it('forwards in origin-form with the authority as the only Host, for requests and upgrades alike', () => {
    const buf = Buffer.from(ok(['POST http://web.cygnet:8000?x=1 HTTP/1.1', 'Host: stale.example', 'Content-Length: 0', 'Accept: */*']));
    const h = new RequestHead();
    expect(h.parse(buf)).to.equal(buf.length);
    const out = writeUpstreamHead(buf, h, upstreamTail('10.0.0.1', h.forwardedFor, h.host ?? '', false), 0).toString();
    expect(out).to.equal('POST /?x=1 HTTP/1.1\r\nHost: web.cygnet:8000\r\nContent-Length: 0\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: web.cygnet:8000\r\n\r\n');
    expect(h.rawHeaders(buf)).to.deep.equal(['Host', 'web.cygnet:8000', 'Content-Length', '0', 'Accept', '*/*']);
  });
});

describe('proxy HTTP/1.1 head writers', () => {
  it('writes the backend head: HTTP/1.1, hop-by-hop and X-Forwarded-* out, the tail in', () => {
    const text = ok(['GET /p HTTP/1.0', 'Host: web', 'Connection: keep-alive, X-Drop', 'X-Drop: 1', 'Keep-Alive: 5', 'X-Forwarded-For: 203.0.113.9', 'X-Forwarded-Proto: https', 'Accept: */*', 'TE: trailers', 'Expect: 100-continue', 'Proxy-Authorization: x']);
    const buf = Buffer.from(text);
    const h = new RequestHead();
    expect(h.parse(buf)).to.equal(buf.length);
    const out = writeUpstreamHead(buf, h, upstreamTail('10.0.0.1', h.forwardedFor, h.host ?? '', false), 3);
    expect(out.length).to.be.greaterThan(3);
    expect(out.subarray(0, out.length - 3).toString()).to.equal('GET /p HTTP/1.1\r\nHost: web\r\nAccept: */*\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: web\r\n\r\n');
  });

  it('writes the client head: hop-by-hop out, framing and Connection as this hop needs', () => {
    const buf = Buffer.from(ok(['HTTP/1.0 200 OK', 'Content-Type: text/plain', 'Transfer-Encoding: chunked', 'Connection: keep-alive, X-Hop', 'X-Hop: s', 'Keep-Alive: timeout=5', 'X-Keep: y']));
    const rh = new ResponseHead();
    expect(rh.parse(buf, 0)).to.equal(buf.length);
    expect(rh).to.include({ status: 200, version: 10, chunked: true, reusable: true });
    const out = writeDownstreamHead(buf, rh, true, connectionClose, 0);
    expect(out.toString()).to.equal('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Keep: y\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
  });
});

describe('proxy HTTP/1.1 response head parser', () => {
  it('keeps every field of a response with many of them', () => {
    const fields = Array.from({ length: 60 }, (_, i) => `Set-Cookie: c${i}=${i}`);
    const buf = Buffer.from(ok(['HTTP/1.1 200 OK', 'Content-Length: 0', ...fields]));
    const rh = new ResponseHead();
    expect(rh.parse(buf, 0)).to.equal(buf.length);
    expect(writeDownstreamHead(buf, rh, false, connectionClose, 0).toString()).to.equal(`HTTP/1.1 200 OK\r\nContent-Length: 0\r\n${fields.map((f) => `${f}\r\n`).join('')}Connection: close\r\n\r\n`);
  });

  const head = (lines: string[], start = 0): ResponseHead => {
    const rh = new ResponseHead();
    const buf = Buffer.from(`${'x'.repeat(start)}${ok(lines)}`);
    const r = rh.parse(buf, start);
    expect(r, rh.error).to.equal(buf.length);
    return rh;
  };

  it('frames bodies by method and status, then chunked, then length, else until close', () => {
    expect(head(['HTTP/1.1 200 OK', 'Content-Length: 5']).bodyFraming('GET')).to.equal(framingLength);
    expect(head(['HTTP/1.1 200 OK', 'Content-Length: 5']).bodyFraming('HEAD')).to.equal(framingNone);
    expect(head(['HTTP/1.1 204 No Content']).bodyFraming('GET')).to.equal(framingNone);
    expect(head(['HTTP/1.1 304 Not Modified', 'Transfer-Encoding: chunked']).bodyFraming('GET')).to.equal(framingNone);
    expect(head(['HTTP/1.1 103 Early Hints', 'Link: </a>']).bodyFraming('GET')).to.equal(framingNone);
    expect(head(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'], 7).bodyFraming('GET')).to.equal(framingChunked);
    const close = head(['HTTP/1.1 200']);
    expect(close.bodyFraming('GET')).to.equal(framingClose);
    expect(close.status).to.equal(200);
  });

  it('knows when the backend keeps the connection', () => {
    expect(head(['HTTP/1.1 200 OK', 'Content-Length: 0']).reusable).to.equal(true);
    expect(head(['HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 0']).reusable).to.equal(false);
    expect(head(['HTTP/1.0 200 OK', 'Content-Length: 0']).reusable).to.equal(false);
  });

  it('refuses what would make the proxy guess the framing', () => {
    for (const lines of [
      ['HTTP/1.1 200 OK', 'Content-Length: 5', 'Transfer-Encoding: chunked'],
      ['HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Length: 7'],
      ['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, chunked'],
      ['HTTP/1.1 2OO OK'],
      ['HTTP/2 200 OK'],
      ['ICY 200 OK'],
      ['HTTP/1.1 200 OK', 'Bad Name: x'],
    ]) {
      const rh = new ResponseHead();
      expect(rh.parse(Buffer.from(ok(lines)), 0), lines.join(' / ')).to.equal(-1);
    }
  });
});

describe('proxy chunked scanner', () => {
  const scan = (text: string, pieces = 1): { end: number; done: boolean; data: string; error: string } => {
    const s = new ChunkedScanner();
    const buf = Buffer.from(text, 'latin1');
    let data = '';
    const step = Math.max(1, Math.ceil(buf.length / pieces));
    for (let at = 0; at < buf.length; at += step) {
      const end = s.feed(buf, at, Math.min(buf.length, at + step), (b, x, y) => { data += b.toString('latin1', x, y); });
      if (end < 0 || s.done) return { end, done: s.done, data, error: s.error };
    }
    return { end: buf.length, done: s.done, data, error: s.error };
  };

  it('finds the end of a body, whole or fed byte by byte, and leaves what follows', () => {
    const body = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n';
    expect(scan(`${body}GET / HTTP/1.1`)).to.deep.equal({ end: body.length, done: true, data: 'hello world', error: '' });
    const slow = scan(body, body.length);
    expect(slow).to.include({ done: true, data: 'hello world' });
    expect(scan('A\r\n0123456789\r\n0\r\n\r\n').data).to.equal('0123456789');
    expect(scan('5\r\nhel').done).to.equal(false);
  });

  const bad: [string, string][] = [
    ['a non-hex size', 'Z\r\nx\r\n0\r\n\r\n'],
    ['an empty size', '\r\nx\r\n0\r\n\r\n'],
    ['a signed size', '-1\r\nx\r\n0\r\n\r\n'],
    ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['a size too large to be exact', 'fffffffffffffff\r\n'],
    ['a size line ended by bare LF', '5\nhello\r\n0\r\n\r\n'],
    ['a chunk not followed by CRLF', '5\r\nhelloX\r\n0\r\n\r\n'],
    ['a chunk longer than its size', '3\r\nhello\r\n0\r\n\r\n'],
    ['a control byte in an extension', '5;a=\u0001\r\nhello\r\n0\r\n\r\n'],
    ['a trailer without a colon', '0\r\nnot a field\r\n\r\n'],
    ['an obs-folded trailer', '0\r\nA: b\r\n  c\r\n\r\n'],
    ['a last chunk not ended by CRLF', '0\r\n\r\r'],
    ['a size line over the limit', `5;${'a'.repeat(maxSizeLineBytes)}\r\nhello\r\n0\r\n\r\n`],
  ];
  for (const [what, text] of bad) {
    it(`refuses ${what}`, () => {
      const r = scan(text);
      expect(r.end, JSON.stringify(r)).to.equal(-1);
      expect(r.error).to.not.equal('');
    });
  }
});
