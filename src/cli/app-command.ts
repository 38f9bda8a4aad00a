/**
 * `cygnet app …`: drives the framework's Marathon API from the shell —
 * create, list, show, scale, update, rollback, canary (start, promote,
 * abort), restart, delete, tasks, deployments, events.
 *
 * Contract (main.ts): a usage error (bad argument, unreadable or non-JSON
 * `-f` file) exits 2 with one line; an API error prints Marathon's message
 * with its details (field paths, blocking deployments) on a few lines and
 * exits 1; so does an unreachable framework. Tables by default, the API's raw
 * JSON with `--json`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.ts';
import { AppApiClient, ApiError, ApiUnreachableError, type Json, type WriteAnswer } from './app-client.ts';
import { formatApp, formatAppList, formatDeployments, formatEvent, formatTasks, formatWrite } from './app-format.ts';

export const defaultApiUrl = 'http://127.0.0.1:8080';

export interface AppCliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Records the exit code of the action that ran. */
  readonly setExit: (code: number) => void;
  /** Ends `app events` (Ctrl-C in the shell; tests abort it). */
  readonly stopSignal?: AbortSignal;
}

interface CommonOpts {
  readonly url: string;
  readonly json: boolean;
}

export function parseInstanceCount(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('expected a whole number of instances (0 or more).');
  return Number(value);
}

export function parseWeight(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a traffic share from 0 to 1.');
  return n;
}

export function parseUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an http:// URL.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError('expected an http:// URL.');
  return value;
}

/** Reads a JSON object from a file (`-` is stdin); a problem is a usage error naming the file. */
export function readJsonFile(file: string, read: (f: string) => string = (f) => readFileSync(f === '-' ? 0 : f, 'utf8')): Json {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    throw new ConfigError(`-f ${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`-f ${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`-f ${file}: expected a JSON object`);
  return v as Json;
}

/**
 * The version `rollback` goes back to when none is named: the newest one made
 * before the current configuration, so a rollback skips versions that only
 * scaled (Marathon makes a version for those too).
 */
export function previousConfigVersion(versionsNewestFirst: readonly string[], app: Json): string | undefined {
  const info = typeof app.versionInfo === 'object' && app.versionInfo !== null ? (app.versionInfo as Json) : {};
  const since = typeof info.lastConfigChangeAt === 'string' ? info.lastConfigChangeAt : typeof app.version === 'string' ? app.version : undefined;
  if (since === undefined) return versionsNewestFirst[1];
  const sinceMs = Date.parse(since);
  return versionsNewestFirst.find((v) => Date.parse(v) < sinceMs);
}

export function addAppCommand(program: Command, io: AppCliIo): void {
  const app = program
    .command('app')
    .description('drive the app framework\'s Marathon API (see `cygnet app --help`)')
    .addOption(new Option('--url <url>', 'framework API').env('CYGNET_URL').default(defaultApiUrl).argParser(parseUrl))
    .option('--json', 'print the raw JSON answer', false);

  const run = (fn: (client: AppApiClient, o: CommonOpts, ...rest: never[]) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const o = cmd.optsWithGlobals<CommonOpts>();
      try {
        await (fn as (c: AppApiClient, o: CommonOpts, ...rest: unknown[]) => Promise<void>)(new AppApiClient(o.url), o, ...args.slice(0, -1));
        io.setExit(0);
      } catch (err) {
        if (err instanceof ApiError) {
          err.describeLines().forEach(io.err);
          io.setExit(1);
          return;
        }
        if (err instanceof ApiUnreachableError) {
          io.err(`error: ${err.message}`);
          io.setExit(1);
          return;
        }
        throw err;
      }
    };
  const print = (o: CommonOpts, body: unknown, human: () => string[]): void => {
    if (o.json) io.out(JSON.stringify(body, null, 2));
    else human().forEach(io.out);
  };
  const write = (verb: string, id: string, o: CommonOpts, body: WriteAnswer): void => print(o, body, () => [formatWrite(verb, id, body)]);

  app.command('create').description('create an app from a JSON definition')
    .requiredOption('-f, --file <file>', 'app definition (JSON; - for stdin)').option('--force', 'supersede a running deployment', false)
    .action(run(async (c, o, opts: { file: string; force: boolean }) => {
      const def = readJsonFile(opts.file);
      const body = await c.createApp(def, opts.force);
      const deployments = Array.isArray(body.deployments) ? (body.deployments as Json[]) : [];
      print(o, body, () => [`created ${String(body.id)}: deployment ${String(deployments[0]?.id ?? '-')}, version ${String(body.version)}`]);
    }));

  app.command('list').description('list apps with their task counts')
    .action(run(async (c, o) => {
      const body = await c.listApps();
      print(o, body, () => formatAppList(body));
    }));

  app.command('show').description('one app: definition, counts, deployments and tasks').argument('<id>', 'app id')
    .action(run(async (c, o, id: string) => {
      const body = await c.getApp(id);
      print(o, body, () => formatApp(body));
    }));

  app.command('scale').description('set the number of instances').argument('<id>', 'app id').argument('<instances>', 'instances', parseInstanceCount)
    .option('--force', 'supersede a running deployment', false)
    .action(run(async (c, o, id: string, n: number, opts: { force: boolean }) => {
      await c.getApp(id); // Marathon's PUT creates a missing app; scaling one that is not there is a 404 here
      write('scaled', id, o, await c.updateApp(id, { instances: n }, opts.force));
    }));

  app.command('update').description('change an app: the JSON fields given replace the current ones').argument('<id>', 'app id')
    .requiredOption('-f, --file <file>', 'fields to change (JSON; - for stdin)').option('--force', 'supersede a running deployment', false)
    .action(run(async (c, o, id: string, opts: { file: string; force: boolean }) => {
      const patch = readJsonFile(opts.file);
      await c.getApp(id); // as for scale: `update` changes an existing app, `create` makes one
      write('updated', id, o, await c.updateApp(id, patch, opts.force));
    }));

  app.command('rollback').description('go back to a version (default: the one before the current configuration)').argument('<id>', 'app id')
    .option('--version <version>', 'version to restore (see `cygnet app show --json`: versions)').option('--force', 'supersede a running deployment', false)
    .action(run(async (c, o, id: string, opts: { version?: string; force: boolean }) => {
      let version = opts.version;
      if (version === undefined) {
        const [current, list] = await Promise.all([c.getApp(id), c.versions(id)]);
        version = previousConfigVersion(list.versions, (current.app ?? {}) as Json);
        if (version === undefined) throw new ApiError(404, `app ${id} has no earlier version to roll back to`, undefined, []);
      }
      write(`rolled back to ${version}:`, id, o, await c.updateApp(id, { version }, opts.force));
    }));

  const canary = app.command('canary').description('move some instances to a new version and give them a share of traffic; then promote or abort')
    .argument('<id>', 'app id')
    .option('-f, --file <file>', 'fields the canary changes (JSON; - for stdin)')
    .option('--instances <k>', 'instances moved to the canary', parseInstanceCount)
    .option('--weight <w>', 'share of traffic for the canary, 0 to 1', parseWeight)
    .option('--force', 'supersede a running deployment', false)
    .action(run(async (c, o, id: string, opts: { file?: string; instances?: number; weight?: number; force: boolean }) => {
      if (opts.file === undefined) throw new ConfigError("canary: required option '-f, --file <file>' not specified");
      if (opts.instances === undefined || opts.instances < 1) throw new ConfigError('canary: --instances <k> (1 or more) is required');
      if (opts.weight === undefined) throw new ConfigError('canary: --weight <w> is required');
      const patch = readJsonFile(opts.file);
      write('canary started on', id, o, await c.startCanary(id, { app: patch, instances: opts.instances, weight: opts.weight }, opts.force));
    }));
  canary.command('promote').description('move every instance to the canary version').argument('<id>', 'app id')
    .action(run(async (c, o, id: string) => write('canary promoted on', id, o, await c.promoteCanary(id))));
  canary.command('abort').description('return the canary instances to the base version').argument('<id>', 'app id')
    .action(run(async (c, o, id: string) => write('canary aborted on', id, o, await c.abortCanary(id))));

  app.command('restart').description('rolling restart of every instance').argument('<id>', 'app id').option('--force', 'supersede a running deployment', false)
    .action(run(async (c, o, id: string, opts: { force: boolean }) => write('restarting', id, o, await c.restartApp(id, opts.force))));

  app.command('delete').description('destroy an app and kill its tasks').argument('<id>', 'app id').option('--force', 'supersede a running deployment', false)
    .action(run(async (c, o, id: string, opts: { force: boolean }) => write('deleting', id, o, await c.deleteApp(id, opts.force))));

  app.command('tasks').description("an app's tasks").argument('<id>', 'app id')
    .action(run(async (c, o, id: string) => {
      const body = await c.tasks(id);
      print(o, body, () => formatTasks(body));
    }));

  app.command('deployments').description('deployments in progress')
    .action(run(async (c, o) => {
      const list = await c.deployments();
      print(o, list, () => formatDeployments(list));
    }));

  app.command('events').description('follow the event stream until interrupted (one line per event)')
    .option('--type <types...>', 'only these event types (e.g. status_update_event)')
    .action(run(async (c, o, opts: { type?: string[] }) => {
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      io.stopSignal?.addEventListener('abort', stop, { once: true });
      try {
        await c.events((type, data) => {
          // Subscribers coming and going (this one included) are the stream's own news, not the cluster's.
          if ((type === 'event_stream_attached' || type === 'event_stream_detached') && !o.json) return;
          io.out(o.json ? JSON.stringify(data) : formatEvent(type, data));
        }, abort.signal, opts.type ?? []);
      } finally {
        process.removeListener('SIGINT', stop);
        io.stopSignal?.removeEventListener('abort', stop);
      }
    }));
}
