/**
 * Helpers for DNS tests on real sockets: a fake upstream resolver that
 * answers from a table and counts what it was asked, `dig` (which must be
 * installed: bind9-dnsutils), and raw UDP/TCP exchanges.
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import dns2 from 'dns2';

const { Packet } = dns2;

export interface FakeUpstream {
  readonly port: number;
  /** Questions received, as `name/TYPE`. */
  readonly asked: string[];
  close(): Promise<void>;
}

/** Table: lower-case name → A address (TTL `ttlSec`, default 60); names not in it get NXDOMAIN with a SOA (minimum 30). `silent`: never answer. */
export async function startFakeUpstream(table: Readonly<Record<string, string>>, opts: { silent?: boolean; ttlSec?: number } = {}): Promise<FakeUpstream> {
  const sock = dgram.createSocket('udp4');
  const asked: string[] = [];
  sock.on('message', (msg, rinfo) => {
    let q: dns2.Packet;
    try {
      q = Packet.parse(msg);
    } catch {
      return;
    }
    const question = q.questions[0];
    if (question === undefined) return;
    asked.push(`${question.name.toLowerCase()}/${question.type}`);
    if (opts.silent === true) return;
    const res = Packet.createResponseFromRequest(q);
    res.header.ra = 1;
    const address = table[question.name.toLowerCase()];
    if (address !== undefined && question.type === Packet.TYPE.A) {
      res.answers.push({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: opts.ttlSec ?? 60, address } as dns2.Packet.Resource);
    } else if (address === undefined) {
      res.header.rcode = 3;
      res.authorities.push({
        name: 'example.org', type: Packet.TYPE.SOA, class: Packet.CLASS.IN, ttl: 300,
        primary: 'ns.example.org', admin: 'admin.example.org', serial: 1, refresh: 1, retry: 1, expiration: 1, minimum: 30,
      } as dns2.Packet.Resource);
    }
    sock.send(res.toBuffer(), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  return { port: sock.address().port, asked, close: () => new Promise((resolve) => sock.close(() => resolve())) };
}

export interface DigResult {
  readonly status: string;
  readonly flags: readonly string[];
  /** Record lines per section, whitespace-normalized: `name ttl IN TYPE data`. */
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
  readonly raw: string;
}

/** Runs dig against 127.0.0.1:port; fails loudly when dig is missing (no skipping). */
export function dig(port: number, args: readonly string[]): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('dig is not installed: these tests need it (apt-get install bind9-dnsutils)'));
        return;
      }
      const raw = stdout;
      const status = /status: ([A-Z]+)/.exec(raw)?.[1] ?? '';
      const flags = (/;; flags: ([a-z ]+);/.exec(raw)?.[1] ?? '').trim().split(/\s+/);
      const section = (name: string): string[] => {
        const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(raw);
        return m === null ? [] : (m[1] ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';')).map((l) => l.trim().split(/\s+/).join(' '));
      };
      if (status === '' && err !== null) {
        reject(new Error(`dig failed: ${err.message}\n${raw}`));
        return;
      }
      resolve({ status, flags, answer: section('ANSWER'), authority: section('AUTHORITY'), additional: section('ADDITIONAL'), raw });
    });
  });
}

/** One UDP exchange; undefined when nothing came back within `timeoutMs`. */
export function udpExchange(port: number, msg: Buffer, timeoutMs = 1000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => { sock.close(); resolve(undefined); }, timeoutMs);
    sock.on('message', (reply) => { clearTimeout(timer); sock.close(); resolve(reply); });
    sock.send(msg, port, '127.0.0.1');
  });
}

/** Builds a query with dns2 (test side only). */
export function buildQuery(name: string, type: number, id = 0x4242): Buffer {
  const p = new Packet();
  p.header.id = id;
  p.header.rd = 1;
  p.questions.push({ name, type, class: Packet.CLASS.IN } as dns2.Packet.Question);
  return p.toBuffer();
}

/** Writes raw bytes to the TCP port and collects what comes back until the server closes or `ms` pass. */
export function tcpRaw(port: number, bytes: Buffer, ms = 300): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => undefined);
    const done = (): void => { sock.destroy(); resolve(Buffer.concat(chunks)); };
    sock.on('close', done);
    setTimeout(done, ms);
  });
}

export { Packet };

export interface Answer {
  readonly rcode: number;
  readonly flags: { readonly aa: boolean; readonly tc: boolean; readonly ra: boolean };
  /** Records per section, as dns2 parses them (EDNS OPT left out of `additional`). */
  readonly answer: readonly Record<string, unknown>[];
  readonly authority: readonly Record<string, unknown>[];
  readonly additional: readonly Record<string, unknown>[];
}

/**
 * One query from Node (no dig needed): over UDP (optionally with an EDNS OPT
 * record advertising `bufsize`) or TCP; the answer parsed with dns2.
 */
export async function query(port: number, name: string, type: number, opts: { tcp?: boolean; bufsize?: number } = {}): Promise<Answer> {
  const p = new Packet();
  p.header.id = Math.floor(Math.random() * 65536);
  p.header.rd = 1;
  p.questions.push({ name, type, class: Packet.CLASS.IN } as dns2.Packet.Question);
  if (opts.bufsize !== undefined) p.additionals.push((Packet.Resource.EDNS as unknown as (rdata: unknown[], o: { udpPayloadSize: number }) => dns2.Packet.Resource)([], { udpPayloadSize: opts.bufsize }));
  const msg = p.toBuffer();
  let reply: Buffer | undefined;
  if (opts.tcp === true) {
    const framed = Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);
    reply = await new Promise<Buffer | undefined>((resolve) => {
      let got = Buffer.alloc(0);
      const sock = net.connect(port, '127.0.0.1', () => sock.write(framed));
      const done = (b: Buffer | undefined): void => { clearTimeout(timer); sock.destroy(); resolve(b); };
      const timer = setTimeout(() => done(undefined), 3000);
      sock.on('data', (c: Buffer) => {
        got = Buffer.concat([got, c]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(got.subarray(2, 2 + got.readUInt16BE(0)));
      });
      sock.on('error', () => done(undefined));
    });
  } else {
    reply = await udpExchange(port, msg, 3000);
  }
  if (reply === undefined || reply.length === 0) throw new Error(`no answer to ${name}/${type}`);
  const parsed = Packet.parse(reply) as unknown as {
    header: { rcode: number; aa: number; tc: number; ra: number };
    answers: Record<string, unknown>[];
    authorities: Record<string, unknown>[];
    additionals: Record<string, unknown>[];
  };
  return {
    rcode: parsed.header.rcode,
    flags: { aa: parsed.header.aa === 1, tc: parsed.header.tc === 1, ra: parsed.header.ra === 1 },
    answer: parsed.answers,
    authority: parsed.authorities,
    additional: parsed.additionals.filter((r) => r.type !== Packet.TYPE.EDNS),
  };
}
