/**
 * POST /api/v1/agent — the master side of the cygnet.agent protocol. Same
 * framing as the Scheduler API: SUBSCRIBE opens the agent's event stream
 * (200, `Mesos-Stream-Id`, RecordIO, first record SUBSCRIBED with the agent
 * id and heartbeat_interval_seconds); UPDATE and HEARTBEAT answer 202.
 *
 * Answers an agent must act on: 400 = a malformed call (fix the agent);
 * 403 = not subscribed / stale stream id (subscribe again).
 */
import type { Request, Response } from 'express';
import type { Logger } from '../common/log.ts';
import { decodeBody } from '../protocol/codec.ts';
import { requestMediaType, responseMediaType } from '../protocol/media.ts';
import { sendError } from './http-errors.ts';
import type { MasterNode } from './master-node.ts';
import { openSubscriberStream } from './subscriber-stream.ts';
import { MethodNotAllowed } from './method-not-allowed.ts';
import type { AgentCall } from './wire.ts';

export function agentApiHandler(node: MasterNode, log: Logger): (req: Request, res: Response) => void {
  return (req, res) => {
    try {
      if (req.method !== 'POST') throw new MethodNotAllowed(req.method);
      const media = requestMediaType(req.headers['content-type']);
      const accept = responseMediaType(req.headers.accept, media);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const call = decodeBody<AgentCall>('cygnet.agent.Call', media, body);
      const core = node.core;
      if (call.type === 'SUBSCRIBE') {
        const streamId = core.newStreamId();
        const ip = normalizeIp(req.socket.remoteAddress);
        const agentId = core.subscribeAgent(call, streamId, ip, node.clock.nowMs());
        openSubscriberStream(
          node,
          {
            res,
            streamId,
            media: accept,
            messageName: 'cygnet.agent.Event',
            clock: node.clock,
            heartbeatIntervalMs: core.ctx.config.agentHeartbeatIntervalSec * 1000,
            heartbeatEvent: { type: 'HEARTBEAT' },
            onEncodeError: (err, event) => log.error({ err, event }, 'event could not be encoded; dropped'),
          },
          (why) => {
            log.debug({ agentId, streamId, why }, 'agent stream closed');
            core.agentStreamClosed(agentId, streamId, node.clock.nowMs());
          },
        );
        return;
      }
      const streamId = req.headers['mesos-stream-id'];
      core.agentCall(call, typeof streamId === 'string' ? streamId : undefined, node.clock.nowMs());
      res.status(202).end();
      node.pump();
    } catch (err) {
      sendError(res, err, log);
      node.pump();
    }
  };
}

function normalizeIp(addr: string | undefined): string {
  if (addr === undefined) return '127.0.0.1';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
