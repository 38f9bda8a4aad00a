import { expect } from 'chai';
import { BadRequestError } from '../../../src/common/errors.ts';
import { RecordIODecoder, encodeRecord } from '../../../src/protocol/recordio.ts';
import { encodeProtobuf } from '../../../src/protocol/codec.ts';

const text = (records: Uint8Array[]): string[] => records.map((r) => Buffer.from(r).toString('utf8'));

describe('protocol/recordio', () => {
  const payloads = ['{"type":"SUBSCRIBED"}', '', 'héllo wörld ✓', 'x'.repeat(300), '7\n8\n'];
  const stream = Buffer.concat(payloads.map((p) => encodeRecord(p)));

  it('frames a payload as "<byte length>\\n<bytes>"', () => {
    expect(encodeRecord('abc').toString('latin1')).to.equal('3\nabc');
    expect(encodeRecord('é').toString('hex')).to.equal(Buffer.from('2\n\xc3\xa9', 'latin1').toString('hex'));
    expect(encodeRecord(new Uint8Array([0, 10, 255]))).to.deep.equal(Buffer.from([0x33, 0x0a, 0, 10, 255]));
    expect(encodeRecord('').toString()).to.equal('0\n');
  });

  it('decodes a multi-record stream split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new RecordIODecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(text(got), `cut at ${cut}`).to.deep.equal(payloads);
      expect(d.buffered).to.equal(0);
    }
  });

  it('decodes the stream split at every pair of boundaries', () => {
    const small = Buffer.concat(['ab', '', 'cde', '{"x":1}'].map((p) => encodeRecord(p)));
    for (let i = 0; i <= small.length; i++) {
      for (let j = i; j <= small.length; j++) {
        const d = new RecordIODecoder();
        const got = [...d.push(small.subarray(0, i)), ...d.push(small.subarray(i, j)), ...d.push(small.subarray(j))];
        expect(text(got), `cuts ${i},${j}`).to.deep.equal(['ab', '', 'cde', '{"x":1}']);
      }
    }
  });

  it('decodes the stream fed one byte at a time, reporting what it buffers', () => {
    const d = new RecordIODecoder();
    const got: Uint8Array[] = [];
    let maxBuffered = 0;
    for (const byte of stream) {
      got.push(...d.push(Uint8Array.of(byte)));
      maxBuffered = Math.max(maxBuffered, d.buffered);
    }
    expect(text(got)).to.deep.equal(payloads);
    // At most the 300-byte record's first 299 bytes wait; its header is consumed once its newline arrives.
    expect(maxBuffered).to.equal(299);
  });

  it('carries binary (protobuf) records intact', () => {
    const record = encodeProtobuf('cygnet.agent.Event', { type: 'HEARTBEAT' });
    const d = new RecordIODecoder();
    const [a, b] = d.push(Buffer.concat([encodeRecord(record), encodeRecord(record)]));
    expect(Buffer.from(a)).to.deep.equal(Buffer.from(record));
    expect(Buffer.from(b)).to.deep.equal(Buffer.from(record));
  });

  it('refuses a record above the bound, as soon as the header says so', () => {
    const d = new RecordIODecoder(10);
    expect(d.push(Buffer.from('10\n0123456789'))).to.have.length(1);
    expect(() => d.push(Buffer.from('11\n'))).to.throw(BadRequestError, /record of at least 11 bytes exceeds the limit of 10/);
    const early = new RecordIODecoder(1000);
    expect(() => early.push(Buffer.from('99999'))).to.throw(BadRequestError, /at least 9999 bytes exceeds the limit of 1000/);
  });

  it('refuses garbage headers and stays failed', () => {
    for (const bad of ['abc\n', '-1\n', ' 3\nabc', '3 \nabc', '\nabc', '0x10\n', '1e3\n']) {
      const d = new RecordIODecoder();
      expect(() => d.push(Buffer.from(bad)), JSON.stringify(bad)).to.throw(BadRequestError, /^Malformed RecordIO stream: /);
      expect(() => d.push(encodeRecord('ok')), 'after failure').to.throw(BadRequestError);
    }
    const long = new RecordIODecoder(Number.MAX_SAFE_INTEGER);
    expect(() => long.push(Buffer.from('0'.repeat(17)))).to.throw(BadRequestError, /longer than 16 digits/);
  });

  it('tolerates leading zeros in a length and a bound of zero', () => {
    expect(text(new RecordIODecoder().push(Buffer.from('003\nabc')))).to.deep.equal(['abc']);
    expect(text(new RecordIODecoder(0).push(Buffer.from('0\n0\n')))).to.deep.equal(['', '']);
  });

  it('validates its bound', () => {
    expect(() => new RecordIODecoder(-1)).to.throw(RangeError);
  });
});
