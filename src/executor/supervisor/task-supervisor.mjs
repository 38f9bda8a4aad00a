/**
 * The task supervisor: a tiny plain-JS process (no loader, starts in ~40 ms)
 * that the agent launches once per task, detached in its own session. It owns:
 *
 *  - spawning the task in its own process group (the agent signals -pgid;
 *    the supervisor is in a different group, so a kill never hits it);
 *  - draining the task's stdout/stderr pipes continuously into `stdout` /
 *    `stderr` in the sandbox with a size cap: when a file would exceed
 *    `logCapBytes` it is renamed to `<name>.1` (replacing the previous one) and
 *    a fresh file is started, so each file is <= cap and at most 2 x cap is kept
 *    per stream. A full disk drops output, it never blocks the task;
 *  - recording how the task ended in `exitPath` (write tmp + fsync + rename),
 *    {code, signal} or {error} if it could not be spawned, then exiting 0.
 *
 * Why a separate process: the task must outlive the agent (agent restart
 * re-attaches), its pipes must keep being drained while the agent is down
 * (else the task blocks or dies of SIGPIPE), and an exit caused by a signal
 * must be told apart from an exit status, which `sh -c 'cmd; echo $?'` cannot.
 *
 * argv[2] is a JSON spec: {file, args, env, cwd, logCapBytes, exitPath}.
 * The first line on stdout is {"pid": <task pid = pgid>}; nothing else is written there.
 * It is plain JS on purpose: it must run with `node` alone, fast, and without
 * the agent's TypeScript loader.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';

/** After the task's leader exits, wait at most this long for its pipes to close. */
const PIPE_CLOSE_WAIT_MS = 2000;

class CappedLog {
  constructor(file, capBytes) {
    this.file = file;
    this.capBytes = Math.max(1, capBytes);
    this.fd = fs.openSync(file, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }

  write(chunk) {
    try {
      let buf = chunk;
      if (buf.length > this.capBytes) buf = buf.subarray(buf.length - this.capBytes);
      if (this.size + buf.length > this.capBytes) this.rotate();
      let off = 0;
      while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
      this.size += buf.length;
    } catch {
      // Disk full or similar: drop output rather than block the task.
    }
  }

  rotate() {
    fs.closeSync(this.fd);
    fs.renameSync(this.file, `${this.file}.1`);
    this.fd = fs.openSync(this.file, 'a');
    this.size = 0;
  }

  close() {
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
  }
}

function writeExit(exitPath, record) {
  const tmp = `${exitPath}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  fs.writeSync(fd, JSON.stringify(record));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, exitPath);
  try {
    const dfd = fs.openSync(path.dirname(exitPath), 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch { /* best effort */ }
}

function main() {
  const spec = JSON.parse(process.argv[2] ?? '{}');
  process.stdout.on('error', () => { /* the agent went away: keep supervising */ });
  for (const sig of ['SIGHUP', 'SIGINT', 'SIGPIPE']) process.on(sig, () => { /* not for us */ });

  const out = new CappedLog(path.join(spec.cwd, 'stdout'), spec.logCapBytes);
  const err = new CappedLog(path.join(spec.cwd, 'stderr'), spec.logCapBytes);
  let finished = false;
  let exitInfo;
  const finish = (record) => {
    if (finished) return;
    finished = true;
    out.close();
    err.close();
    try { writeExit(spec.exitPath, { ...record, atMs: Date.now() }); } catch { /* nothing to report to */ }
    process.exit(0);
  };

  const child = spawn(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.on('error', (e) => {
    if (child.pid === undefined) finish({ error: `${e.code ?? 'spawn error'}: ${e.message}` });
  });
  if (child.pid === undefined) return;
  try { fs.writeFileSync(`${spec.exitPath}.pid`, String(child.pid)); } catch { /* informational only */ }
  process.stdout.write(`${JSON.stringify({ pid: child.pid })}\n`);
  process.stdout.end();

  child.stdout.on('data', (c) => out.write(c));
  child.stderr.on('data', (c) => err.write(c));
  child.on('exit', (code, signal) => {
    exitInfo = { code, signal };
    // Leftovers in the task's group die with its leader, as in a Mesos container.
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* group already gone */ }
    setTimeout(() => finish(exitInfo), PIPE_CLOSE_WAIT_MS).unref();
  });
  child.on('close', (code, signal) => finish(exitInfo ?? { code, signal }));
}

main();
