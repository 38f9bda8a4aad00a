/**
 * A daemon `cygnet local` starts in a session of its own (the proxy) is out
 * of reach of the terminal's Ctrl-C and of a kill aimed at the launcher's
 * process group. The launcher kills it on a normal exit, but a launcher
 * that is SIGKILLed (or OOM-killed) cannot, and the daemon would go on
 * holding its ports against the next `npm start`. So the launcher passes
 * its pid in CYGNET_LAUNCHER_PID, and the daemon stops itself, as on
 * SIGTERM, once its parent is no longer that process (it was re-parented).
 */
export const launcherPidEnv = 'CYGNET_LAUNCHER_PID';

/** How often the parent is checked: a daemon outlives its launcher by at most this. */
export const launcherCheckMs = 500;

export interface LauncherWatchIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly parentPid: () => number;
  readonly every: (ms: number, check: () => void) => () => void;
}

/**
 * Calls `onGone` once when the parent stops being the launcher named in the
 * environment; does nothing without one. Returns a function that stops watching.
 */
export function watchLauncher(io: LauncherWatchIo, onGone: () => void): () => void {
  const raw = io.env[launcherPidEnv];
  if (raw === undefined || !/^[1-9][0-9]*$/.test(raw)) return () => undefined;
  const launcher = Number(raw);
  let fired = false;
  const check = (): void => {
    if (fired || io.parentPid() === launcher) return;
    fired = true;
    onGone();
  };
  const stop = io.every(launcherCheckMs, check);
  check(); // the launcher may already be gone by the time this process runs
  return stop;
}

/**
 * The process's own watch: an unref'd interval on process.ppid, ending in
 * SIGTERM to itself. The variable is taken out of the environment so that
 * nothing this process starts mistakes its launcher.
 */
export function watchOwnLauncher(): () => void {
  const env = { [launcherPidEnv]: process.env[launcherPidEnv] };
  delete process.env[launcherPidEnv];
  return watchLauncher(
    {
      env,
      parentPid: () => process.ppid,
      every: (ms, check) => {
        const timer = setInterval(check, ms);
        timer.unref();
        return () => clearInterval(timer);
      },
    },
    () => process.kill(process.pid, 'SIGTERM'),
  );
}
