/**
 * A TCP relay a test can cut without root: what it forwards stops, both
 * ways, while the connections stay open, as on a network that went silent
 * (no reset, no refusal). New connections are accepted and held silent too.
 * Healing lets the held bytes through, as TCP would once its retransmits get
 * through. Used to cut one framework replica off from the master while it
 * still reaches everything else.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class TcpRelay {
  private readonly links = new Set<Link>();
  private cutOff = false;

  private constructor(private readonly server: Server, readonly address: string) {}

  static async start(target: { host: string; port: number }): Promise<TcpRelay> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const relay = new TcpRelay(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connection', (client: Socket) => relay.adopt(client, target));
    return relay;
  }

  get isCut(): boolean {
    return this.cutOff;
  }

  cut(): void {
    this.cutOff = true;
    for (const l of this.links) l.hold();
  }

  heal(): void {
    this.cutOff = false;
    for (const l of this.links) l.release();
  }

  async close(): Promise<void> {
    for (const l of this.links) l.destroy();
    await new Promise((r) => this.server.close(r));
  }

  private adopt(client: Socket, target: { host: string; port: number }): void {
    const link = new Link(client, connect(target), () => this.links.delete(link));
    this.links.add(link);
    if (this.cutOff) link.hold();
  }
}

/** One relayed connection: bytes that arrive while it is held wait, in order, for `release`. */
class Link {
  private held = false;
  private readonly waiting: [Socket, Buffer][] = [];

  constructor(private readonly a: Socket, private readonly b: Socket, onGone: () => void) {
    a.on('data', (d: Buffer) => this.pass(b, d));
    b.on('data', (d: Buffer) => this.pass(a, d));
    const done = (): void => {
      onGone();
      this.destroy();
    };
    for (const s of [a, b]) s.on('error', done).on('close', done);
  }

  hold(): void {
    this.held = true;
    this.a.pause();
    this.b.pause();
  }

  release(): void {
    this.held = false;
    for (const [to, d] of this.waiting.splice(0)) to.write(d);
    this.a.resume();
    this.b.resume();
  }

  destroy(): void {
    this.a.destroy();
    this.b.destroy();
  }

  private pass(to: Socket, d: Buffer): void {
    if (this.held) this.waiting.push([to, d]);
    else to.write(d);
  }
}
