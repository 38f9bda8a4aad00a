import { expect } from 'chai';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { ValidationError } from '../../../../src/common/errors.ts';
import { createRootLogger } from '../../../../src/common/log.ts';
import { apiErrorAnswer, sendApiError } from '../../../../src/framework/api/errors.ts';
import { DeploymentConflictError } from '../../../../src/framework/app-service.ts';
import { NotLeaderError, ProposalDroppedError, ProposalTimeoutError } from '../../../../src/raft/errors.ts';

describe('framework API errors → HTTP', () => {
  it('a write dropped by a leader change is a retryable 503, not a 409 (the write was not applied)', () => {
    const dropped = new ProposalDroppedError(1172, "the slot holds term 3's entry, not this proposal (term 2)");
    expect(apiErrorAnswer(dropped)).to.deep.equal({ status: 503, body: { message: dropped.message } });
    expect(dropped.retryAfterSeconds).to.equal(1);
  });

  it('keeps the other answers: no leader 503, unknown outcome 504, deployment lock 409, invalid field 422', () => {
    expect(apiErrorAnswer(new NotLeaderError(0)).status).to.equal(503);
    expect(apiErrorAnswer(new ProposalTimeoutError('proposal', 5000)).status).to.equal(504);
    expect(apiErrorAnswer(new DeploymentConflictError('App is locked', ['d1']))).to.deep.equal({ status: 409, body: { message: 'App is locked', deployments: [{ id: 'd1' }] } });
    expect(apiErrorAnswer(new ValidationError('container.type', 'MESOS'))).to.deep.include({ status: 422 });
  });

  describe('over HTTP', () => {
    let server: Server;
    let base: string;
    const logged: string[] = [];
    before(async () => {
      const sink = new Writable({ write(chunk: Buffer, _enc, done) { logged.push(chunk.toString()); done(); } });
      const log = createRootLogger({ level: 'info', format: 'json', color: false }, sink);
      const app = express();
      app.post('/dropped', (_req, res) => sendApiError(res, new ProposalDroppedError(7, 'the slot holds term 9'), log));
      app.get('/unconfirmed', (_req, res) => sendApiError(res, new ProposalTimeoutError('read', 5000), log));
      server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('answers 503 with Retry-After and Marathon\'s {"message"}, and logs a warning, not an error', async () => {
      const res = await fetch(`${base}/dropped`, { method: 'POST' });
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('1');
      expect(await res.json()).to.deep.equal({ message: 'proposal at index 7 dropped: the slot holds term 9' });
      const lines = logged.map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(lines.map((l) => [l.level, l.msg])).to.deep.equal([[40, 'request refused: unavailable']]);
    });

    it('answers a read it could not confirm in time 504, logged as a warning without a stack (a partition is not a bug)', async () => {
      logged.length = 0;
      const res = await fetch(`${base}/unconfirmed`);
      expect(res.status).to.equal(504);
      expect(await res.json()).to.deep.equal({ message: 'read timed out after 5000 ms (outcome unknown)' });
      const lines = logged.map((l) => JSON.parse(l) as { level: number; msg: string; stack?: string });
      expect(lines.map((l) => [l.level, l.msg, l.stack])).to.deep.equal([[40, 'request timed out: outcome unknown', undefined]]);
    });
  });
});
