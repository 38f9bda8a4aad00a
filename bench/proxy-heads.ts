/**
 * The proxy engine's head work in isolation, in nanoseconds per call: the
 * request head of wrk's benchmark request and a node:http backend's
 * response head, each parsed and rewritten as the hot path does. No
 * sockets, so the figures hold still where end-to-end runs on a shared
 * machine move by more than these costs; compare two commits by running
 * it on each.
 *
 *   npx tsx bench/proxy-heads.ts [rounds]
 */
import { connectionNone, upstreamTail, writeDownstreamHead, writeUpstreamHead } from '../src/proxy/http1/head-writer.ts';
import { RequestHead } from '../src/proxy/http1/request-head.ts';
import { ResponseHead } from '../src/proxy/http1/response-head.ts';

const rounds = Number(process.argv[2] ?? '5');
const request = Buffer.from('GET / HTTP/1.1\r\nHost: web.bench.cygnet\r\n\r\n');
const body = 'hello from b0 xxxxxx';
const response = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 06 Dec 2026 23:52:18 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
const requestHead = new RequestHead();
const responseHead = new ResponseHead();
const tail = upstreamTail('127.0.0.1', undefined, 'web.bench.cygnet', false);
let sink = 0;

const cases: Record<string, () => void> = {
  'request head: parse': () => { sink += requestHead.parse(request, 0); },
  'request head: parse + write upstream': () => { sink += writeUpstreamHead(request, requestHead, tail, 0).length + requestHead.parse(request, 0); },
  'response head: parse': () => { sink += responseHead.parse(response, 0); },
  'response head: parse + write downstream': () => {
    const end = responseHead.parse(response, 0);
    sink += writeDownstreamHead(response, responseHead, false, connectionNone, response.length - end).length;
  },
};

function nsPerCall(f: () => void, calls: number): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) f();
  return Number(process.hrtime.bigint() - t) / calls;
}

const best = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(cases)) {
    nsPerCall(f, 100_000); // warm
    const ns = nsPerCall(f, 1_000_000);
    best.set(name, Math.min(best.get(name) ?? Infinity, ns));
  }
}
console.log(`| head work (best of ${rounds} × 1M calls) | ns per call |\n|---|---:|`);
for (const [name, ns] of best) console.log(`| ${name} | ${ns.toFixed(0)} |`);
if (sink === 0) console.log('(nothing parsed)');
