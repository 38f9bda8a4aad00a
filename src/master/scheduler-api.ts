/**
 * POST /api/v1/scheduler — the Mesos v1 Scheduler API edge. Negotiates media
 * (415 / 406), decodes the Call (400 with the field path), and either opens
 * the framework's event stream (SUBSCRIBE: 200, `Mesos-Stream-Id`, RecordIO,
 * first record SUBSCRIBED) or hands the call to the core (202, empty body;
 * UPDATE_FRAMEWORK 200).
 * A rejected call changes nothing; its CygnetError is mapped to HTTP once, in
 * http-errors.ts.
 *
 * As Mesos' master does: only SUBSCRIBE negotiates a response type (other
 * calls answer 202 with no body, whatever their Accept); the stream is
 * `Content-Type: application/json|x-protobuf`, or `application/recordio` with
 * `Message-Content-Type` when the client asks for `Accept:
 * application/recordio` (+ `Message-Accept`); a SUBSCRIBE carrying a
 * `Mesos-Stream-Id` header is 400; re-subscribing a removed framework gets a
 * 200 stream with one ERROR event, then end of stream.
 */
import type { Request, Response } from 'express';
import { BadRequestError } from '../common/errors.ts';
import { MethodNotAllowed } from './method-not-allowed.ts';
import { decodeBody } from '../protocol/codec.ts';
import { requestMediaType, streamMediaType, type StreamMedia } from '../protocol/media.ts';
import type { Logger } from '../common/log.ts';
import { EventStream } from './event-stream.ts';
import { sendError } from './http-errors.ts';
import type { MasterNode } from './master-node.ts';
import { openSubscriberStream } from './subscriber-stream.ts';
import { FrameworkInfoRefused } from './scheduler-call-validation.ts';
import { FrameworkRemovedError } from './scheduler-calls.ts';
import type { SchedulerCall } from './wire.ts';

export function schedulerApiHandler(node: MasterNode, log: Logger): (req: Request, res: Response) => void {
  return (req, res) => {
    try {
      if (req.method !== 'POST') throw new MethodNotAllowed(req.method);
      const media = requestMediaType(req.headers['content-type']);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const call = decodeBody<SchedulerCall>('mesos.v1.scheduler.Call', media, body);
      if (call.type === 'SUBSCRIBE') {
        subscribe(node, log, req, res, call, streamMediaType(req.headers.accept, header(req, 'message-accept')));
        return;
      }
      node.core.schedulerCall(call, header(req, 'mesos-stream-id'), node.clock.nowMs());
      // Mesos answers UPDATE_FRAMEWORK 200 (it is done when answered), every other call 202.
      res.status(call.type === 'UPDATE_FRAMEWORK' ? 200 : 202).end();
      node.pump();
    } catch (err) {
      sendError(res, err, log);
      node.pump();
    }
  };
}

function subscribe(node: MasterNode, log: Logger, req: Request, res: Response, call: SchedulerCall, media: StreamMedia): void {
  if (req.headers['mesos-stream-id'] !== undefined) throw new BadRequestError("Subscribe calls should not include the 'Mesos-Stream-Id' header");
  const core = node.core;
  const streamId = core.newStreamId();
  const streamOptions = {
    res,
    streamId,
    media: media.media,
    contentType: media.contentType,
    messageContentType: media.messageContentType,
    messageName: 'mesos.v1.scheduler.Event' as const,
    clock: node.clock,
    heartbeatIntervalMs: core.ctx.config.heartbeatIntervalSec * 1000,
    heartbeatEvent: { type: 'HEARTBEAT' },
    onEncodeError: (err: unknown, event: object) => log.error({ err, event }, 'event could not be encoded; dropped'),
  };
  let frameworkId: string;
  try {
    frameworkId = core.subscribeFramework(call, streamId, node.clock.nowMs());
  } catch (err) {
    if (!(err instanceof FrameworkRemovedError) && !(err instanceof FrameworkInfoRefused)) throw err;
    const refused = new EventStream({ ...streamOptions, heartbeatIntervalMs: 0, onClosed: () => undefined });
    refused.send({ type: 'ERROR', error: { message: err.message } });
    refused.close(err.message);
    return;
  }
  openSubscriberStream(node, streamOptions, (why) => {
    log.debug({ frameworkId, streamId, why }, 'framework stream closed');
    core.frameworkStreamClosed(frameworkId, streamId, node.clock.nowMs());
  });
}

/** A request header given once (a repeated one counts as absent). */
export function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}
