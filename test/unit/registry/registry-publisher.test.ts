import { expect } from 'chai';
import { ValidationError } from '../../../src/common/errors.ts';
import { RecordIODecoder } from '../../../src/protocol/recordio.ts';
import { RegistryPublisher, type RegistryChange, type RegistrySubscriber } from '../../../src/registry/registry-publisher.ts';
import { RegistryDeltaRejectedError } from '../../../src/registry/registry-state.ts';
import type { WatchRecord } from '../../../src/registry/types.ts';
import { app, endpoint } from '../../helpers/registry-fixtures.ts';

class Recorder implements RegistrySubscriber {
  readonly frames: Buffer[] = [];
  resets: string[] = [];
  deliver(frame: Buffer): void {
    this.frames.push(frame);
  }
  reset(why: string): void {
    this.resets.push(why);
  }
}

function decode(frames: readonly Buffer[]): WatchRecord[] {
  const d = new RecordIODecoder();
  return frames.flatMap((f) => d.push(f)).map((r) => JSON.parse(Buffer.from(r).toString('utf8')) as WatchRecord);
}

describe('RegistryPublisher', () => {
  it('numbers changes sequentially and hands every subscriber the same encoded Buffer', () => {
    const p = new RegistryPublisher({ clusterId: 'c' });
    const subs = [new Recorder(), new Recorder(), new Recorder()];
    for (const s of subs) p.subscribe(undefined, s);
    const d1 = p.publish({ type: 'APP_UPDATED', app: app('/a') });
    const d2 = p.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/a', 't1') });
    expect([d1.revision, d2.revision]).to.deep.equal([1, 2]);
    for (const s of subs) {
      expect(s.frames).to.have.length(2);
      expect(s.frames[0]).to.equal(subs[0].frames[0]);
      expect(s.frames[1]).to.equal(subs[0].frames[1]);
    }
    expect(decode(subs[0].frames)).to.deep.equal([d1, d2]);
  });

  it('a change that does not validate or apply throws, uses no revision and reaches nobody', () => {
    const p = new RegistryPublisher({ clusterId: 'c' });
    const s = new Recorder();
    p.subscribe(undefined, s);
    expect(() => p.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/ghost', 't1') })).to.throw(RegistryDeltaRejectedError);
    expect(() => p.publish({ type: 'APP_UPDATED', app: { id: 'relative', labels: {}, ports: [] } })).to.throw(ValidationError, /app.id/);
    expect(() => p.publish({ type: 'BOGUS' } as unknown as RegistryChange)).to.throw(ValidationError, /^type: /);
    expect(p.revision).to.equal(0);
    expect(s.frames).to.have.length(0);
    expect(p.publish({ type: 'APP_UPDATED', app: app('/a') }).revision).to.equal(1);
  });

  it('answers a subscription with a snapshot or with RESUMED plus the deltas after since', () => {
    const p = new RegistryPublisher({ clusterId: 'c', windowCapacity: 2 });
    p.publish({ type: 'APP_UPDATED', app: app('/a') });
    p.publish({ type: 'APP_UPDATED', app: app('/b') });
    p.publish({ type: 'APP_UPDATED', app: app('/c') });
    const fresh = p.subscribe(undefined, new Recorder());
    expect(fresh.kind).to.equal('snapshot');
    expect(decode(fresh.frames)).to.deep.equal([p.state.snapshot()]);
    const resumed = p.subscribe(1, new Recorder());
    expect(resumed.kind).to.equal('resumed');
    expect(decode(resumed.frames).map((r) => `${r.type}@${r.revision}`)).to.deep.equal(['RESUMED@1', 'APP_UPDATED@2', 'APP_UPDATED@3']);
    expect(p.subscribe(0, new Recorder()).kind).to.equal('snapshot');
    expect(p.subscribe(4, new Recorder()).kind).to.equal('snapshot');
    expect(p.subscriberCount).to.equal(4);
    fresh.unsubscribe();
    expect(p.subscriberCount).to.equal(3);
  });

  it('encodes a snapshot and a heartbeat once per revision', () => {
    const p = new RegistryPublisher({ clusterId: 'c' });
    p.publish({ type: 'APP_UPDATED', app: app('/a') });
    expect(p.snapshotJson()).to.equal(p.snapshotJson());
    expect(p.heartbeatFrame()).to.equal(p.heartbeatFrame());
    const before = p.snapshotJson();
    p.publish({ type: 'APP_REMOVED', appId: '/a' });
    expect(p.snapshotJson()).to.not.equal(before);
    expect(decode([p.heartbeatFrame()])).to.deep.equal([{ type: 'HEARTBEAT', revision: 2 }]);
  });

  it('publishCluster publishes only a change', () => {
    const p = new RegistryPublisher({ clusterId: 'c' });
    expect(p.publishCluster({ leader: 'h:8080' })?.revision).to.equal(1);
    expect(p.publishCluster({ leader: 'h:8080' })).to.equal(undefined);
    expect(p.publishCluster({ leader: 'h:8080', master: 'm:5050' })?.revision).to.equal(2);
  });

  it('restore continues numbering after the snapshot and resets current subscribers', () => {
    const source = new RegistryPublisher({ clusterId: 'c' });
    for (let i = 0; i < 7; i++) source.publish({ type: 'APP_UPDATED', app: app(`/a${i}`) });
    const p = new RegistryPublisher({ clusterId: 'c' });
    const s = new Recorder();
    p.subscribe(undefined, s);
    p.restore(source.state.snapshot());
    expect(s.resets).to.deep.equal(['registry restored at revision 7']);
    expect(p.subscriberCount).to.equal(0);
    expect(p.publish({ type: 'APP_REMOVED', appId: '/a0' }).revision).to.equal(8);
    expect(p.subscribe(7, new Recorder()).kind).to.equal('resumed');
    expect(p.subscribe(6, new Recorder()).kind).to.equal('snapshot');
  });
});
