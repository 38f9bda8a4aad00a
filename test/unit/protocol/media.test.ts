import { expect } from 'chai';
import { BadRequestError, NotAcceptableError, UnsupportedMediaTypeError } from '../../../src/common/errors.ts';
import { requestMediaType, responseMediaType, streamMediaType } from '../../../src/protocol/media.ts';

describe('protocol/media', () => {
  describe('requestMediaType', () => {
    it('accepts the two Mesos media types, with parameters and any case', () => {
      expect(requestMediaType('application/json')).to.equal('application/json');
      expect(requestMediaType('application/json; charset=utf-8')).to.equal('application/json');
      expect(requestMediaType('Application/X-Protobuf')).to.equal('application/x-protobuf');
      expect(requestMediaType(' application/x-protobuf ;q=1')).to.equal('application/x-protobuf');
    });

    it('answers a missing Content-Type with 400, as Mesos does', () => {
      for (const missing of [undefined, '', '   ']) {
        expect(() => requestMediaType(missing)).to.throw(BadRequestError, "Expecting 'Content-Type' to be present");
      }
      try {
        requestMediaType(undefined);
      } catch (err) {
        expect((err as BadRequestError).httpStatus).to.equal(400);
      }
    });

    it('answers an unsupported Content-Type with 415 naming the allowed ones', () => {
      expect(() => requestMediaType('text/plain')).to.throw(
        UnsupportedMediaTypeError,
        "Expecting 'Content-Type' of application/json or application/x-protobuf, got 'text/plain'",
      );
      expect(() => requestMediaType('application/jsonx')).to.throw(UnsupportedMediaTypeError);
      expect(() => requestMediaType('application/recordio')).to.throw(UnsupportedMediaTypeError);
    });
  });

  describe('responseMediaType', () => {
    const cases: ReadonlyArray<readonly [string | undefined, 'application/json' | 'application/x-protobuf', string]> = [
      [undefined, 'application/json', 'application/json'],
      [undefined, 'application/x-protobuf', 'application/x-protobuf'],
      ['', 'application/json', 'application/json'],
      ['*/*', 'application/json', 'application/json'],
      ['*/*', 'application/x-protobuf', 'application/x-protobuf'],
      ['application/*', 'application/json', 'application/json'],
      ['application/json', 'application/x-protobuf', 'application/json'],
      ['application/json, application/json', 'application/json', 'application/json'],
      ['application/x-protobuf', 'application/json', 'application/x-protobuf'],
      ['application/json;q=0.5, application/x-protobuf', 'application/json', 'application/x-protobuf'],
      ['application/json;q=0.9, application/x-protobuf;q=0.1', 'application/x-protobuf', 'application/json'],
      ['application/x-protobuf;q=0, */*', 'application/x-protobuf', 'application/json'],
      ['text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8', 'application/json', 'application/json'],
      ['text/html, application/json ; q=0.2', 'application/json', 'application/json'],
      ['APPLICATION/JSON', 'application/x-protobuf', 'application/json'],
      ['garbage, application/json', 'application/json', 'application/json'],
      ['application/json;q=abc, application/x-protobuf;q=0.3', 'application/json', 'application/x-protobuf'],
    ];
    for (const [accept, fallback, want] of cases) {
      it(`Accept ${JSON.stringify(accept)} (fallback ${fallback}) → ${want}`, () => {
        expect(responseMediaType(accept, fallback)).to.equal(want);
      });
    }

    it('answers nothing acceptable with 406', () => {
      for (const accept of ['text/html', 'text/html, text/plain;q=0.5', 'application/json;q=0, application/x-protobuf;q=0', '*/*;q=0', 'image/*']) {
        let thrown: unknown;
        try {
          responseMediaType(accept, 'application/json');
        } catch (err) {
          thrown = err;
        }
        expect(thrown, accept).to.be.instanceOf(NotAcceptableError);
        expect((thrown as NotAcceptableError).httpStatus).to.equal(406);
        expect((thrown as NotAcceptableError).message).to.match(/^Expecting 'Accept' to allow application\/json or application\/x-protobuf/);
      }
    });

    it('defaults the fallback to JSON', () => {
      expect(responseMediaType(undefined)).to.equal('application/json');
    });
  });

  describe('streamMediaType', () => {
    it('answers a codec Accept with that Content-Type (mesos-go scheduler style)', () => {
      expect(streamMediaType('application/x-protobuf', undefined)).to.deep.equal({ media: 'application/x-protobuf', contentType: 'application/x-protobuf' });
      expect(streamMediaType(undefined, undefined, 'application/json')).to.deep.equal({ media: 'application/json', contentType: 'application/json' });
      expect(streamMediaType('*/*', 'application/x-protobuf')).to.deep.equal({ media: 'application/json', contentType: 'application/json' });
    });

    it('answers application/recordio with Message-Content-Type from Message-Accept', () => {
      expect(streamMediaType('application/recordio', 'application/x-protobuf')).to.deep.equal({
        media: 'application/x-protobuf',
        contentType: 'application/recordio',
        messageContentType: 'application/x-protobuf',
      });
      expect(streamMediaType('application/recordio', undefined, 'application/json')).to.deep.equal({
        media: 'application/json',
        contentType: 'application/recordio',
        messageContentType: 'application/json',
      });
      expect(streamMediaType('application/json;q=0.5, application/recordio', 'application/x-protobuf').contentType).to.equal('application/recordio');
      expect(streamMediaType('application/json, application/recordio;q=0.5', 'application/x-protobuf').contentType).to.equal('application/json');
    });

    it('406s when neither the stream nor the records can be served', () => {
      expect(() => streamMediaType('application/recordio', 'text/html')).to.throw(NotAcceptableError);
      expect(() => streamMediaType('text/html', undefined)).to.throw(NotAcceptableError);
    });
  });
});
