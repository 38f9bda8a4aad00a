/**
 * POST /api/v1/scheduler — the Mesos v1 Scheduler API edge. Negotiates media
 * (415 / 406), decodes the Call (400 with the field path), and either opens
 * the framework's event stream (SUBSCRIBE: 200, `Mesos-Stream-Id`, RecordIO,
 * first record SUBSCRIBED) or hands the call to the core (202, empty body).
 * A rejected call changes nothing; its CygnetError is mapped to HTTP once, in
 * http-errors.ts.
 */
import type { Request, Response } from 'express';
import { MethodNotAllowed } from './method-not-allowed.ts';
import { decodeBody } from '../protocol/codec.ts';
import { requestMediaType, responseMediaType } from '../protocol/media.ts';
import type { Logger } from '../common/log.ts';
import { EventStream } from './event-stream.ts';
import { sendError } from './http-errors.ts';
import type { MasterNode } from './master-node.ts';
import type { SchedulerCall } from './wire.ts';

export function schedulerApiHandler(node: MasterNode, log: Logger): (req: Request, res: Response) => void {
  return (req, res) => {
    try {
      if (req.method !== 'POST') throw new MethodNotAllowed(req.method);
      const media = requestMediaType(req.headers['content-type']);
      const accept = responseMediaType(req.headers.accept, media);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const call = decodeBody<SchedulerCall>('mesos.v1.scheduler.Call', media, body);
      const core = node.core;
      if (call.type === 'SUBSCRIBE') {
        const streamId = core.newStreamId();
        const frameworkId = core.subscribeFramework(call, streamId, node.clock.nowMs());
        let stream: EventStream;
        try {
          stream = new EventStream({
            res,
            streamId,
            media: accept,
            messageName: 'mesos.v1.scheduler.Event',
            clock: node.clock,
            heartbeatIntervalMs: core.ctx.config.heartbeatIntervalSec * 1000,
            heartbeatEvent: { type: 'HEARTBEAT' },
            onEncodeError: (err, event) => log.error({ err, event }, 'event could not be encoded; dropped'),
            onClosed: (why) => {
              node.unregisterStream(streamId);
              log.debug({ frameworkId, streamId, why }, 'framework stream closed');
              core.frameworkStreamClosed(frameworkId, streamId, node.clock.nowMs());
              node.pump();
            },
          });
        } catch (err) {
          // The stream never opened: the core must not believe it is connected.
          core.frameworkStreamClosed(frameworkId, streamId, node.clock.nowMs());
          throw err;
        }
        node.registerStream(stream);
        node.pump();
        return;
      }
      const streamId = req.headers['mesos-stream-id'];
      core.schedulerCall(call, typeof streamId === 'string' ? streamId : undefined, node.clock.nowMs());
      res.status(202).end();
      node.pump();
    } catch (err) {
      sendError(res, err, log);
      node.pump();
    }
  };
}
