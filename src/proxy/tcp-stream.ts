/**
 * The byte streams the HTTP engine runs on: raw libuv handles (raw-tcp.ts)
 * where node has them, else net.Socket behind the same small interface.
 * Both keep one contract: a read is valid only during its onData call,
 * `write` false past a high-water mark then `onDrain`, `end` half-closes
 * after queued writes, one asynchronous `onClose` after `destroy` or a
 * failure. The HTTP engine, the upgrade tunnel and the TCP forwarder all
 * run on it.
 */
import { lookup } from 'node:dns';
import { connect, isIP, Socket as NetSocket, type Server, type Socket, type SocketConstructorOpts } from 'node:net';
import { rawTcpAvailable, RawTcpStream, type TcpHandle } from './raw-tcp.ts';

export { rawTcpAvailable };

export interface StreamHandler {
  /** Valid only during the call (raw streams read into one shared buffer): copy what you keep, or write (writes go out at the end of the loop turn). */
  onData(chunk: Buffer): void;
  /** The peer half-closed; reading has stopped. */
  onEnd(): void;
  /** Everything written has left (after a `write` returned false). */
  onDrain(): void;
  /** Once, after destroy or a failure; `code` names the failure (ECONNRESET…). */
  onClose(code: string | undefined): void;
}

export interface TcpStream {
  readonly remoteAddress: string | undefined;
  readonly destroyed: boolean;
  /** Neither ended nor destroyed. */
  readonly writable: boolean;
  readonly paused: boolean;
  /** Delivers events (and reads, unless paused) to `handler` from now on, replacing the previous one. */
  attach(handler: StreamHandler): void;
  /** False: past the high-water mark, wait for `onDrain`. */
  write(data: Buffer | string): boolean;
  write2(first: Buffer, second: Buffer): boolean;
  end(last?: Buffer | string): void;
  destroySoon(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
}

/** Which streams the proxy runs on: `raw` libuv handles, or `net` sockets. */
export type ProxyIo = 'raw' | 'net';

/** `raw` where node has the bindings, unless CYGNET_PROXY_IO=net asks for net sockets. */
export function defaultProxyIo(): ProxyIo {
  return rawTcpAvailable && process.env.CYGNET_PROXY_IO !== 'net' ? 'raw' : 'net';
}

/** net.Socket behind the TcpStream interface (node without the raw bindings). */
class NetTcpStream implements TcpStream {
  private handler: StreamHandler | null = null;
  private listening = false;
  private errorCode: string | undefined;
  paused = false;

  constructor(readonly socket: Socket) {
    socket.pause();
    socket.on('error', (err: NodeJS.ErrnoException) => { this.errorCode ??= err.code; });
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  get writable(): boolean {
    return this.socket.writable;
  }

  attach(handler: StreamHandler): void {
    this.handler = handler;
    const s = this.socket;
    if (!this.listening) {
      this.listening = true;
      s.on('data', (chunk: Buffer) => this.handler?.onData(chunk));
      s.on('end', () => this.handler?.onEnd());
      s.on('drain', () => this.handler?.onDrain());
      s.once('close', () => this.handler?.onClose(this.errorCode));
    }
    if (!this.paused) s.resume();
  }

  write(data: Buffer | string): boolean {
    // net.Socket would destroy itself on a write after end: the contract here is a refused write.
    return this.socket.writable && this.socket.write(data);
  }

  write2(first: Buffer, second: Buffer): boolean {
    if (!this.socket.writable) return false;
    this.socket.cork();
    this.socket.write(first);
    const ok = this.socket.write(second);
    this.socket.uncork();
    return ok;
  }

  end(last?: Buffer | string): void {
    if (last === undefined) this.socket.end();
    else this.socket.end(last);
  }

  destroySoon(): void {
    this.socket.destroySoon();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    this.paused = false;
    if (this.handler !== null) this.socket.resume();
  }
}

/**
 * Hands every connection `server` accepts to `onStream`, as a raw stream
 * when it can. Call once the server is listening: the raw path takes over
 * the listening handle's `onconnection` (net.Server then never sees the
 * connections, which is why their lifetime is the caller's to track).
 * `divert` (raw path only, where no byte has been read yet) may take a
 * connection away first, as a multi-worker proxy does to pass it to
 * another worker; it returns true when it did. Returns the listening
 * handle on the raw path (listen-fanout.ts gives it more descriptors),
 * else null.
 */
export function acceptStreams(server: Server, io: ProxyIo, onStream: (stream: TcpStream) => void, divert?: (handle: TcpHandle) => boolean): TcpHandle | null {
  const listening = (server as unknown as { _handle: TcpHandle | null })._handle;
  if (io === 'raw' && rawTcpAvailable && listening !== null && typeof listening.onconnection === 'function') {
    listening.onconnection = (err: number, handle: TcpHandle | undefined) => {
      if (err !== 0 || handle === undefined) return; // EMFILE and the like: the next accept may succeed
      if (divert?.(handle) === true) return;
      handle.setNoDelay(true);
      onStream(new RawTcpStream(handle, 'at-once'));
    };
    return listening;
  }
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    onStream(new NetTcpStream(socket));
  });
  return null;
}

/** A connection handle that came from another process over IPC, as a TcpStream. */
export function adoptHandle(handle: TcpHandle, io: ProxyIo): TcpStream {
  handle.setNoDelay(true);
  if (io === 'raw' && rawTcpAvailable) return new RawTcpStream(handle, 'at-once');
  return new NetTcpStream(new NetSocket({ handle, readable: true, writable: true, allowHalfOpen: true } as unknown as SocketConstructorOpts));
}

/** A connection a net.Server accepted, as a TcpStream (paused until attached). */
export function streamOfSocket(socket: Socket): TcpStream {
  return new NetTcpStream(socket);
}

/**
 * Dials a backend within `timeoutMs`; exactly one of the callbacks follows,
 * asynchronously (`onFailed(undefined)`: timed out). Returns a cancel
 * function (neither follows after it).
 */
export function dialStream(io: ProxyIo, address: string, port: number, timeoutMs: number, onConnected: (stream: TcpStream) => void, onFailed: (code: string | undefined) => void): () => void {
  let timer: NodeJS.Timeout | null = null;
  const stopTimer = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const cancel = connectStream(io, address, port, (stream) => {
    stopTimer();
    onConnected(stream);
  }, (code) => {
    stopTimer();
    onFailed(code);
  });
  timer = setTimeout(() => {
    timer = null;
    cancel();
    onFailed(undefined);
  }, timeoutMs);
  timer.unref();
  return () => {
    stopTimer();
    cancel();
  };
}

function connectStream(io: ProxyIo, address: string, port: number, onConnected: (stream: TcpStream) => void, onFailed: (code: string) => void): () => void {
  if (io === 'raw' && rawTcpAvailable) {
    if (isIP(address) !== 0) return RawTcpStream.connect(address, port, onConnected, onFailed);
    let cancelled = false;
    let cancelDial = (): void => { cancelled = true; };
    lookup(address, (err, ip) => {
      if (cancelled) return;
      if (err !== null) onFailed(err.code ?? 'ENOTFOUND');
      else cancelDial = RawTcpStream.connect(ip, port, onConnected, onFailed);
    });
    return () => cancelDial();
  }
  const socket = connect({ host: address, port, noDelay: true });
  let settled = false;
  socket.once('connect', () => {
    if (settled) return;
    settled = true;
    socket.removeAllListeners('error');
    onConnected(new NetTcpStream(socket));
  });
  socket.once('error', (err: NodeJS.ErrnoException) => {
    if (settled) return;
    settled = true;
    onFailed(err.code ?? 'ECONNREFUSED');
  });
  return () => {
    if (settled) return;
    settled = true;
    socket.destroy();
  };
}
