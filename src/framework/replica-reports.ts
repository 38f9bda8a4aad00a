/**
 * Asks the other replicas how they stand (GET /v1/cluster on their REST
 * APIs), for the leader looking for a successor (abdication.ts). A replica
 * that does not answer within `timeoutMs`, or answers something else, is
 * left out.
 */
import { Agent, request } from 'undici';
import type { ReplicaReport } from './abdication.ts';

export const reportTimeoutMs = 1_000;

const toReplicas = new Agent({ connect: { timeout: reportTimeoutMs }, keepAliveTimeout: 10_000 });

/** Reports of the replicas at `apis` (id → host:port of their REST API), those that answered. */
export async function fetchReplicaReports(apis: ReadonlyMap<number, string>, timeoutMs = reportTimeoutMs): Promise<ReplicaReport[]> {
  const answers = await Promise.all([...apis].map(([id, api]) => fetchReport(id, api, timeoutMs)));
  return answers.filter((r): r is ReplicaReport => r !== undefined);
}

async function fetchReport(id: number, api: string, timeoutMs: number): Promise<ReplicaReport | undefined> {
  try {
    const res = await request(`http://${api}/v1/cluster`, { dispatcher: toReplicas, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    const body = await res.body.json() as { id?: unknown; role?: unknown; applied?: unknown; masterReachable?: unknown };
    if (body.id !== id || typeof body.role !== 'string' || typeof body.applied !== 'number' || typeof body.masterReachable !== 'boolean') return undefined;
    return { id, role: body.role, applied: body.applied, masterReachable: body.masterReachable };
  } catch {
    return undefined;
  }
}
