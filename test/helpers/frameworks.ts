/**
 * Helpers for driving a real cluster through the scheduler SDK in tests and
 * benchmarks.
 *
 * A test framework never hoards offers: every offer no `launchTask` is
 * waiting for is declined at once for `idleRefuseSeconds`, so several
 * frameworks (and a failed test's leftovers) never starve each other.
 * `closeAllClients()` / `teardownAllClients()` clean up in after hooks.
 */
import { SchedulerClient, commandTask, offerScalar, type SchedulerClientOptions } from '../../src/framework/sdk/index.ts';
import type { FrameworkInfo, Offer } from '../../src/protocol/mesos-types.ts';
import { SchedulerRecorder } from './scheduler-recorder.ts';

/** How long an offer nobody wanted stays away from this framework. */
export const idleRefuseSeconds = 1;

interface OfferWaiter {
  readonly fits: (offer: Offer) => boolean;
  readonly resolve: (offer: Offer) => void;
}

export interface TestFramework {
  readonly client: SchedulerClient;
  readonly rec: SchedulerRecorder;
  readonly waiters: OfferWaiter[];
}

const frameworks = new Set<TestFramework>();

export function newFramework(master: string, info: Partial<FrameworkInfo> & { name: string }, opts: Partial<SchedulerClientOptions> = {}): TestFramework {
  const client = new SchedulerClient({
    masters: [master],
    frameworkInfo: { user: process.env.USER ?? 'root', failover_timeout: 300, ...info },
    backoff: { minMs: 100, maxMs: 1_000 },
    autoAcknowledge: true,
    ...opts,
  });
  const fw: TestFramework = { client, rec: new SchedulerRecorder(client), waiters: [] };
  client.on('offers', (offers) => {
    const unused: string[] = [];
    for (const offer of offers) {
      const i = fw.waiters.findIndex((w) => w.fits(offer));
      if (i >= 0) fw.waiters.splice(i, 1)[0]!.resolve(offer);
      else unused.push(offer.id.value);
    }
    client.decline(unused, { refuse_seconds: idleRefuseSeconds }).catch(() => undefined);
  });
  frameworks.add(fw);
  return fw;
}

/** Closes every client (frameworks stay registered and may fail over). */
export async function closeAllClients(): Promise<void> {
  await Promise.all([...frameworks].map((f) => f.client.close()));
  frameworks.clear();
}

/** TEARDOWN every framework still subscribed (its tasks are killed), then close it. */
export async function teardownAllClients(): Promise<void> {
  await Promise.all([...frameworks].map(async (f) => {
    if (f.client.state === 'subscribed') await f.client.teardown().catch(() => undefined);
    else await f.client.close();
  }));
  frameworks.clear();
}

/** The value of text/scalar attribute `name` on an offer (agents are told apart by a `node` attribute). */
export function offerAttribute(offer: Offer, name: string): string | undefined {
  const a = offer.attributes?.find((x) => x.name === name);
  if (a === undefined) return undefined;
  return a.text?.value ?? (a.scalar ? String(a.scalar.value) : a.set?.item.join(','));
}

export interface LaunchSpec {
  readonly taskId: string;
  readonly command: string;
  readonly cpus?: number;
  readonly memMb?: number;
  /** Which offers are acceptable (default: any with enough cpus and mem). */
  readonly pick?: (offer: Offer) => boolean;
}

/** Resolves with the next offer that `fits` (offers arriving meanwhile that don't are declined). */
export function nextOffer(fw: TestFramework, fits: (offer: Offer) => boolean, what: string, timeoutMs = 60_000): Promise<Offer> {
  return new Promise<Offer>((resolve, reject) => {
    const waiter: OfferWaiter = {
      fits,
      resolve: (offer) => {
        clearTimeout(timer);
        resolve(offer);
      },
    };
    const timer = setTimeout(() => {
      fw.waiters.splice(fw.waiters.indexOf(waiter), 1);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (framework ${fw.client.describe()})`));
    }, timeoutMs);
    fw.waiters.push(waiter);
  });
}

/** Waits for an acceptable offer and launches one command task on it. Returns the offer used. */
export async function launchTask(fw: TestFramework, spec: LaunchSpec, timeoutMs = 60_000): Promise<Offer> {
  const cpus = spec.cpus ?? 0.1;
  const memMb = spec.memMb ?? 32;
  const fits = (o: Offer): boolean => offerScalar(o, 'cpus') >= cpus && offerScalar(o, 'mem') >= memMb && (spec.pick?.(o) ?? true);
  const offer = await nextOffer(fw, fits, `an offer for ${spec.taskId}`, timeoutMs);
  await fw.client.launch(offer, [commandTask(offer, { taskId: spec.taskId, command: spec.command, cpus, memMb })]);
  return offer;
}
