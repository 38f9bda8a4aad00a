/**
 * Log format: pretty (one readable line per event) when stdout is a terminal,
 * JSON when piped, CYGNET_LOG_FORMAT / --log-format override; a parent hands
 * its choice (decided by its own stdout) to the children it prints for.
 */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { applyLogFormat, takeLogFormatFlag } from '../../../src/cli/log-format-flag.ts';
import { createRootLogger, LOG_FORMAT_ENV, logEnvForChildren, resolveLogFormat, type LogFormat } from '../../../src/common/log.ts';

function capture(format: LogFormat): { lines: string[]; log: ReturnType<typeof createRootLogger> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { lines, log: createRootLogger({ level: 'info', format, color: false }, sink) };
}

describe('cli/log format', () => {
  it('is pretty on a terminal and JSON when piped, unless CYGNET_LOG_FORMAT says otherwise', () => {
    expect(resolveLogFormat({}, true)).to.equal('pretty');
    expect(resolveLogFormat({}, false)).to.equal('json');
    expect(resolveLogFormat({ [LOG_FORMAT_ENV]: 'json' }, true)).to.equal('json');
    expect(resolveLogFormat({ [LOG_FORMAT_ENV]: 'pretty' }, false)).to.equal('pretty');
    expect(resolveLogFormat({ [LOG_FORMAT_ENV]: 'xml' }, false)).to.equal('json');
  });

  it('children inherit the parent’s choice, made from the parent’s stdout (theirs is a pipe)', () => {
    expect(logEnvForChildren({}, true)).to.deep.equal({ CYGNET_LOG_FORMAT: 'pretty', CYGNET_LOG_COLOR: '1' });
    expect(logEnvForChildren({}, false)).to.deep.equal({ CYGNET_LOG_FORMAT: 'json', CYGNET_LOG_COLOR: '0' });
    expect(logEnvForChildren({ [LOG_FORMAT_ENV]: 'json' }, true)).to.deep.equal({ CYGNET_LOG_FORMAT: 'json', CYGNET_LOG_COLOR: '0' });
    expect(logEnvForChildren({ [LOG_FORMAT_ENV]: 'pretty' }, false)).to.deep.equal({ CYGNET_LOG_FORMAT: 'pretty', CYGNET_LOG_COLOR: '0' });
  });

  it('pretty: one line per event with time, level, component, message and fields', () => {
    const { lines, log } = capture('pretty');
    log.child({ component: 'raft-node', id: 1 }).info({ term: 3 }, 'leader changed');
    log.warn('no component');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[raft-node\] leader changed \{"id":1,"term":3\}$/);
    expect(lines[1]).to.match(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: no component$/);
  });

  it('json: one JSON object per event', () => {
    const { lines, log } = capture('json');
    log.child({ component: 'agent' }).info({ port: 5 }, 'agent started');
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0]!)).to.include({ level: 30, component: 'agent', port: 5, msg: 'agent started' });
  });

  it('--log-format is taken out of a daemon’s argv; a bad value names the flag', () => {
    expect(takeLogFormatFlag(['--port', '1', '--log-format', 'json'])).to.deep.equal({ argv: ['--port', '1'], format: 'json' });
    expect(takeLogFormatFlag(['--log-format=pretty', '--ip', 'x'])).to.deep.equal({ argv: ['--ip', 'x'], format: 'pretty' });
    expect(takeLogFormatFlag(['--ip', 'x'])).to.deep.equal({ argv: ['--ip', 'x'], format: undefined });
    expect(() => takeLogFormatFlag(['--log-format', 'xml'])).to.throw(/--log-format: expected one of json, pretty, got "xml"/);
    expect(() => takeLogFormatFlag(['--log-format'])).to.throw(/--log-format: expected/);
    const before = process.env[LOG_FORMAT_ENV];
    try {
      applyLogFormat('pretty');
      expect(process.env[LOG_FORMAT_ENV]).to.equal('pretty');
    } finally {
      if (before === undefined) delete process.env[LOG_FORMAT_ENV];
      else process.env[LOG_FORMAT_ENV] = before;
    }
  });
});
