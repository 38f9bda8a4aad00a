/**
 * Peer-stream framing: frames survive any chunking (split headers, many
 * frames per chunk, empty bodies), and a declared length over the bound is
 * refused before anything is buffered for it.
 */
import { expect } from 'chai';
import { CygnetError } from '../../../src/common/errors.ts';
import { encodeFrame, FrameDecoder } from '../../../src/raft/stream-frames.ts';

const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('hello raft')];
const wire = Buffer.concat(bodies.map((b) => encodeFrame(b)));

describe('raft stream frames', () => {
  for (const size of [1, 2, 3, 5, 17, 4096, wire.length]) {
    it(`reassembles frames fed in ${size}-byte chunks`, () => {
      const d = new FrameDecoder(1 << 20);
      const out: Buffer[] = [];
      for (let i = 0; i < wire.length; i += size) out.push(...d.push(wire.subarray(i, i + size)));
      expect(out.map((b) => b.toString('hex'))).to.deep.equal(bodies.map((b) => b.toString('hex')));
      expect(d.pending).to.equal(0);
    });
  }

  it('refuses a frame longer than the bound from its header alone', () => {
    const d = new FrameDecoder(100);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(101, 0);
    expect(() => d.push(header)).to.throw(CygnetError, /101 bytes exceeds the limit of 100/);
  });

  it('keeps a partial frame until the rest arrives', () => {
    const d = new FrameDecoder(100);
    const f = encodeFrame(Buffer.from('xyz'));
    expect(d.push(f.subarray(0, 5))).to.deep.equal([]);
    expect(d.pending).to.equal(5);
    expect(d.push(f.subarray(5)).map((b) => b.toString())).to.deep.equal(['xyz']);
  });
});
