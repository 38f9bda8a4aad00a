/**
 * Real backends for proxy tests, on 127.0.0.1 with ephemeral ports: an
 * HTTP server that answers who it is and what it received (headers
 * included), holds `/hold` requests until the client goes away, and echoes
 * WebSocket text frames; and the same as a child process that a test can
 * SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { once } from 'node:events';

export interface TestBackend {
  readonly name: string;
  readonly port: number;
  readonly server: Server;
  /** Connections open to this backend right now. */
  openConnections(): number;
  /** Requests received so far. */
  readonly seen: { count: number };
  close(): Promise<void>;
}

export interface EchoBody {
  readonly backend: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** The response header a backend sets that a proxy must drop (hop-by-hop by Connection). */
export const backendHopHeader = 'x-backend-hop';

export async function startBackend(name: string): Promise<TestBackend> {
  const sockets = new Set<Socket>();
  const seen = { count: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.count++;
    if (req.url?.startsWith('/hold')) return; // never answers; the client gives up
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body: EchoBody = { backend: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: `keep-alive, ${backendHopHeader}`, [backendHopHeader]: 'secret', 'keep-alive': 'timeout=5' });
      res.end(text);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => acceptWebSocket(name, req, socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    name,
    port: (server.address() as AddressInfo).port,
    server,
    seen,
    openConnections: () => sockets.size,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** Minimal RFC 6455 echo: handshake, then unmasked text frames back with `<name>:` prefixed. */
function acceptWebSocket(name: string, req: IncomingMessage, socket: Socket): void {
  const key = req.headers['sec-websocket-key'];
  const accept = createHash('sha1').update(`${String(key)}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Seen-Forwarded-For: ${String(req.headers['x-forwarded-for'])}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 6) {
      const opcode = (buf[0] as number) & 0x0f;
      const len = (buf[1] as number) & 0x7f; // tests send short frames only
      if (buf.length < 6 + len) return;
      const mask = buf.subarray(2, 6);
      const payload = Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ (mask[i % 4] as number)));
      buf = buf.subarray(6 + len);
      if (opcode === 8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      const reply = Buffer.from(`${name}:${payload.toString()}`);
      socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
    }
  });
}

const childScript = `
const http = require('node:http');
const name = process.argv[1];
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ backend: name })); }); });
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
`;

export interface ChildBackend {
  readonly name: string;
  readonly port: number;
  readonly process: ChildProcess;
  kill(): Promise<void>;
}

/** A backend in its own process, for tests that kill one mid-run. */
export async function startChildBackend(name: string): Promise<ChildBackend> {
  const child = spawn(process.execPath, ['-e', childScript, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
    child.once('exit', (code) => reject(new Error(`backend ${name} exited with ${String(code)} before listening`)));
  });
  return {
    name,
    port,
    process: child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
