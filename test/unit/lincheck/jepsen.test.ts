/**
 * Parsers for Jepsen histories: how each completion kind maps to an
 * operation (ok / fail / info / never completed), both separators of the
 * etcd log (tabs, and tabs expanded to spaces), the EDN reader, and a clear
 * line-numbered error for every malformed input.
 */
import { expect } from 'chai';
import { ValidationError } from '../../../src/common/errors.ts';
import { Keyword, parseEdn, printEdn } from '../../../src/lincheck/edn.ts';
import { parseJepsenEtcdLog, parseJepsenKvEdn } from '../../../src/lincheck/jepsen.ts';

const line = (process: number, type: string, f: string, value: string) => `INFO  jepsen.util - ${process}\t:${type}\t:${f}\t${value}`;

describe('lincheck parseJepsenEtcdLog', () => {
  it('pairs invocations with completions by process, timed by line position', () => {
    const text = [
      line(0, 'invoke', 'read', 'nil'),
      line(1, 'invoke', 'write', '3'),
      line(0, 'ok', 'read', 'nil'),
      line(1, 'ok', 'write', '3'),
      line(0, 'invoke', 'cas', '[3 4]'),
      line(0, 'ok', 'cas', '[3 4]'),
    ].join('\n');
    expect(parseJepsenEtcdLog(text)).to.deep.equal([
      { clientId: 0, input: { op: 'read' }, output: { value: null }, call: 0, ret: 2 },
      { clientId: 1, input: { op: 'write', value: 3 }, output: { ok: true }, call: 1, ret: 3 },
      { clientId: 0, input: { op: 'cas', from: 3, to: 4 }, output: { ok: true }, call: 4, ret: 5 },
    ]);
  });

  it('reads logs whose tabs were expanded to spaces', () => {
    const text = 'INFO  jepsen.util - 1   :invoke :cas    [1 2]\nINFO  jepsen.util - 1   :fail   :cas    [1 2]\n';
    expect(parseJepsenEtcdLog(text)).to.deep.equal([
      { clientId: 1, input: { op: 'cas', from: 1, to: 2 }, output: { ok: false }, call: 0, ret: 1 },
    ]);
  });

  it('keeps a failed cas as an observed { ok: false }, drops failed reads and writes', () => {
    const text = [
      line(0, 'invoke', 'read', 'nil'),
      line(0, 'fail', 'read', ':timed-out'),
      line(1, 'invoke', 'write', '2'),
      line(1, 'fail', 'write', '2'),
      line(2, 'invoke', 'cas', '[0 1]'),
      line(2, 'fail', 'cas', '[0 1]'),
    ].join('\n');
    expect(parseJepsenEtcdLog(text)).to.deep.equal([
      { clientId: 2, input: { op: 'cas', from: 0, to: 1 }, output: { ok: false }, call: 4, ret: 5 },
    ]);
  });

  it('turns :info and never-completed writes into unknown outcomes, and drops such reads', () => {
    const text = [
      line(0, 'invoke', 'write', '1'),
      line(1, 'invoke', 'cas', '[1 2]'),
      line(2, 'invoke', 'read', 'nil'),
      line(3, 'invoke', 'read', 'nil'),
      line(0, 'info', 'write', ':timed-out'),
      line(2, 'info', 'read', ':timed-out'),
    ].join('\n');
    expect(parseJepsenEtcdLog(text)).to.deep.equal([
      { clientId: 0, input: { op: 'write', value: 1 }, output: undefined, call: 0, ret: Infinity },
      { clientId: 1, input: { op: 'cas', from: 1, to: 2 }, output: undefined, call: 1, ret: Infinity },
    ]);
  });

  it('parses an empty log as an empty history', () => {
    expect(parseJepsenEtcdLog('')).to.deep.equal([]);
    expect(parseJepsenEtcdLog('\n\n')).to.deep.equal([]);
  });

  const bad: [string, string, string][] = [
    ['garbage', 'line 2', `${line(0, 'invoke', 'read', 'nil')}\nhello`],
    ['completion without invocation', 'line 1: expected an outstanding invocation for process 4', line(4, 'ok', 'read', '1')],
    ['a second invocation', 'line 2: expected no new invocation', `${line(0, 'invoke', 'read', 'nil')}\n${line(0, 'invoke', 'read', 'nil')}`],
    ['a completion of another function', 'line 2 (f): expected :read', `${line(0, 'invoke', 'read', 'nil')}\n${line(0, 'ok', 'write', '1')}`],
    ['an unknown function', 'line 1 (f): expected :read, :write or :cas', line(0, 'invoke', 'delete', 'nil')],
    ['an unknown type', 'line 2 (type)', `${line(0, 'invoke', 'read', 'nil')}\n${line(0, 'maybe', 'read', '1')}`],
    ['a non-integer write', 'line 1 (write value): expected an integer', line(0, 'invoke', 'write', '"x"')],
    ['a malformed cas pair', 'line 1 (cas value): expected [FROM TO] of integers', line(0, 'invoke', 'cas', '[1]')],
    ['a read of a string', 'line 2 (read value): expected nil or an integer', `${line(0, 'invoke', 'read', 'nil')}\n${line(0, 'ok', 'read', '"x"')}`],
    ['a completion echoing other arguments', 'line 2 (:ok value): expected 3 as invoked', `${line(0, 'invoke', 'write', '3')}\n${line(0, 'ok', 'write', '4')}`],
    ['an unterminated vector', 'line 1 (value), column 5: expected "]", got end of input', line(0, 'invoke', 'cas', '[1 2')],
  ];
  for (const [what, message, text] of bad) {
    it(`rejects ${what} with the line`, () => {
      expect(() => parseJepsenEtcdLog(text)).to.throw(ValidationError, message);
    });
  }
});

describe('lincheck parseJepsenKvEdn', () => {
  it('parses get/put/append; a nil or missing get value is the empty string', () => {
    const text = [
      '{:process 0, :type :invoke, :f :put, :key "k", :value "a"}',
      '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
      '{:process 0, :type :ok, :f :put, :key "k", :value "a"}',
      '{:process 1, :type :ok, :f :get, :key "k", :value nil}',
      '{:process 1, :type :invoke, :f :append, :key "k", :value "b c"}',
      '{:process 1, :type :ok, :f :append, :key "k", :value "b c"}',
      '{:process 0, :type :invoke, :f :get, :key "k", :value nil}',
      '{:process 0, :type :ok, :f :get, :key "k", :value "ab c"}',
    ].join('\n');
    expect(parseJepsenKvEdn(text)).to.deep.equal([
      { clientId: 0, input: { op: 'put', key: 'k', value: 'a' }, output: { ok: true }, call: 0, ret: 2 },
      { clientId: 1, input: { op: 'get', key: 'k' }, output: { value: '' }, call: 1, ret: 3 },
      { clientId: 1, input: { op: 'append', key: 'k', value: 'b c' }, output: { ok: true }, call: 4, ret: 5 },
      { clientId: 0, input: { op: 'get', key: 'k' }, output: { value: 'ab c' }, call: 6, ret: 7 },
    ]);
  });

  it('maps :info / no completion to unknown outcomes and cas :fail to { ok: false }', () => {
    const text = [
      '{:process 0, :type :invoke, :f :append, :key "k", :value "x"}',
      '{:process 1, :type :invoke, :f :cas, :key "k", :value ["" "y"]}',
      '{:process 2, :type :invoke, :f :put, :key "j", :value "z"}',
      '{:process 0, :type :info, :f :append, :key "k", :value "x"}',
      '{:process 1, :type :fail, :f :cas, :key "k", :value ["" "y"]}',
    ].join('\n');
    expect(parseJepsenKvEdn(text)).to.deep.equal([
      { clientId: 0, input: { op: 'append', key: 'k', value: 'x' }, output: undefined, call: 0, ret: Infinity },
      { clientId: 1, input: { op: 'cas', key: 'k', from: '', to: 'y' }, output: { ok: false }, call: 1, ret: 4 },
      { clientId: 2, input: { op: 'put', key: 'j', value: 'z' }, output: undefined, call: 2, ret: Infinity },
    ]);
  });

  const bad: [string, string, string][] = [
    ['a non-map line', 'line 1: expected an EDN map', '[1 2]'],
    ['a missing process', 'line 1 (:process): expected a non-negative integer', '{:type :invoke, :f :get, :key "k"}'],
    ['a string type', 'line 1 (:type): expected a keyword', '{:process 0, :type "invoke", :f :get, :key "k"}'],
    ['a missing key', 'line 1 (:key): expected a string, got nothing', '{:process 0, :type :invoke, :f :get}'],
    ['a put without a value', 'line 1 (:value): expected a string', '{:process 0, :type :invoke, :f :put, :key "k", :value nil}'],
    ['an unknown function', 'line 1 (:f): expected :get, :put, :append or :cas', '{:process 0, :type :invoke, :f :del, :key "k"}'],
    ['an odd map', 'line 1, column 1: expected a map with an even number of forms', '{:process 0 :type}'],
    ['a bad escape', 'expected an escape', '{:process 0, :type :invoke, :f :get, :key "\\q"}'],
  ];
  for (const [what, message, text] of bad) {
    it(`rejects ${what} with the line`, () => {
      expect(() => parseJepsenKvEdn(text)).to.throw(ValidationError, message);
    });
  }
});

describe('lincheck EDN reader', () => {
  it('reads maps, vectors, keywords, strings with escapes, integers, nil and booleans', () => {
    const v = parseEdn('{:a [1 -2 nil true false], "s" "q\\"\\n\\u0041", :k :x}', 'line 1');
    expect(v).to.be.instanceOf(Map);
    const m = v as Map<string, unknown>;
    expect(m.get(':a')).to.deep.equal([1, -2, null, true, false]);
    expect(m.get('"s"')).to.equal('q"\nA');
    expect(m.get(':k')).to.deep.equal(new Keyword('x'));
    expect(printEdn(v)).to.equal('{:a [1 -2 nil true false], "s" "q\\"\\nA", :k :x}');
  });

  it('rejects trailing input and excessive nesting', () => {
    expect(() => parseEdn('1 2', 'line 3')).to.throw(ValidationError, 'line 3, column 3: expected end of input');
    expect(() => parseEdn('['.repeat(100), 'line 1')).to.throw(ValidationError, 'nesting of at most 32');
  });
});
