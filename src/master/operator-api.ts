/**
 * POST /api/v1 (and /master/api/v1): the read-only Mesos v1 Operator API. One
 * `mesos.v1.master.Call` in (JSON or protobuf, by Content-Type), one
 * `Response` out (by Accept, else the request's media type). The answers are
 * built by operator-state.ts; calls that change the cluster or stream events
 * (SUBSCRIBE, maintenance, quota, volumes, UPDATE_WEIGHTS, logging level, files)
 * answer 501 naming what is served.
 */
import type { Request, Response } from 'express';
import { BadRequestError, NotImplementedError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { decodeBody, encodeBody } from '../protocol/codec.ts';
import { requestMediaType, responseMediaType, streamMediaType } from '../protocol/media.ts';
import type { MasterCall } from '../protocol/operator-types.ts';
import { sendError } from './http-errors.ts';
import type { MasterNode } from './master-node.ts';
import { MethodNotAllowed } from './method-not-allowed.ts';
import { header } from './scheduler-api.ts';
import type { OperatorEventFanout } from './operator-events.ts';
import { ANSWERED_CALLS, operatorResponse, type OperatorSources } from './operator-state.ts';

export function operatorApiHandler(node: MasterNode, log: Logger, metricsSnapshot: () => Readonly<Record<string, number>>, roleWeights: Readonly<Record<string, number>>, events: OperatorEventFanout): (req: Request, res: Response) => void {
  return (req, res) => {
    try {
      if (req.method !== 'POST') throw new MethodNotAllowed(req.method);
      const media = requestMediaType(req.headers['content-type']);
      const out = responseMediaType(req.headers.accept);
      const call = decodeBody<MasterCall>('mesos.v1.master.Call', media, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      if (call.type === undefined || call.type === 'UNKNOWN') throw new BadRequestError("Expecting 'type' to be present");
      const sources: OperatorSources = { core: node.core, flags: masterFlags(node, roleWeights), metricsSnapshot, roleWeights };
      if (call.type === 'SUBSCRIBE') {
        events.subscribe(res, streamMediaType(req.headers.accept, header(req, 'message-accept')), sources);
        return;
      }
      const answer = ANSWERED_CALLS.has(call.type) ? operatorResponse(call.type, sources) : undefined;
      if (answer === undefined) {
        throw new NotImplementedError(`${call.type} is not served: cygnet's master answers SUBSCRIBE and the read-only calls ${[...ANSWERED_CALLS].join(', ')}`);
      }
      // Exactly the media type, as Mesos answers: mesos-go compares it whole (express would add a charset).
      res.statusCode = 200;
      res.setHeader('Content-Type', out);
      res.end(Buffer.from(encodeBody('mesos.v1.master.Response', out, answer)));
    } catch (err) {
      sendError(res, err, log);
    }
  };
}

/** The master's effective settings, named as Mesos names its flags. */
export function masterFlags(node: MasterNode, roleWeights: Readonly<Record<string, number>>): { name: string; value: string }[] {
  const c = node.core.ctx.config;
  const info = c.masterInfo;
  return [
    { name: 'hostname', value: info.hostname ?? '' },
    { name: 'ip', value: info.address?.ip ?? '' },
    { name: 'port', value: String(info.port) },
    { name: 'heartbeat_interval', value: `${c.heartbeatIntervalSec}secs` },
    { name: 'agent_heartbeat_interval', value: `${c.agentHeartbeatIntervalSec}secs` },
    { name: 'agent_ping_timeout', value: `${c.agentPingTimeoutMs}ms` },
    { name: 'agent_reregister_timeout', value: `${c.reregistrationWindowMs}ms` },
    { name: 'offer_timeout', value: c.offerTimeoutMs === undefined ? '' : `${c.offerTimeoutMs}ms` },
    { name: 'default_refuse_seconds', value: String(c.defaultRefuseSeconds) },
    { name: 'weights', value: Object.entries(roleWeights).map(([role, w]) => `${role}=${w}`).join(',') },
  ];
}
