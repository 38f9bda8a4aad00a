import { expect } from 'chai';
import { computeUpstreamHeaders } from '../../../src/proxy/headers.ts';
import { classifyUpstreamError, computeEjectionMs, mayRetry } from '../../../src/proxy/failure-policy.ts';

const fwd = { clientIp: '10.1.2.3', proto: 'http' as const, host: 'web.cygnet' };

describe('proxy headers', () => {
  it('drops hop-by-hop headers, including those named in Connection, and sets X-Forwarded-*', () => {
    const out = computeUpstreamHeaders(['Host', 'web.cygnet', 'Connection', 'keep-alive, X-Secret', 'X-Secret', 's', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Proxy-Authorization', 'x', 'X-Forwarded-For', '1.1.1.1', 'X-Forwarded-Proto', 'https', 'Accept', '*/*'], fwd, false, false);
    expect(out).to.deep.equal(['Host', 'web.cygnet', 'Accept', '*/*', 'X-Forwarded-For', '1.1.1.1, 10.1.2.3', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'web.cygnet']);
  });

  it('re-frames a chunked body and keeps Connection/Upgrade for an upgrade', () => {
    expect(computeUpstreamHeaders(['Transfer-Encoding', 'chunked'], fwd, true, false)).to.deep.equal(['X-Forwarded-For', '10.1.2.3', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'web.cygnet', 'Transfer-Encoding', 'chunked']);
    expect(computeUpstreamHeaders(['Connection', 'keep-alive, Upgrade', 'Upgrade', 'websocket'], fwd, false, true).slice(0, 4)).to.deep.equal(['Connection', 'Upgrade', 'Upgrade', 'websocket']);
  });
});

describe('proxy failure policy', () => {
  const policy = { maxAttempts: 3, ejectBaseMs: 1000, ejectMaxMs: 5000 };
  it('retries connect failures while attempts remain; a request cut before its answer only with retryIdempotent, idempotent and bodiless', () => {
    expect(classifyUpstreamError('ECONNREFUSED', 'connect')).to.equal('connect');
    expect(classifyUpstreamError('ECONNRESET', 'headers')).to.equal('reset');
    const base = { kind: 'connect' as const, attempts: 1, method: 'POST', bodyUntouched: true, cutBeforeResponse: false };
    expect(mayRetry(base, policy)).to.equal(true);
    expect(mayRetry({ ...base, attempts: 3 }, policy)).to.equal(false);
    expect(mayRetry({ ...base, kind: 'reset' }, policy)).to.equal(false);
    const cutGet = { ...base, kind: 'reset' as const, cutBeforeResponse: true, method: 'GET' };
    expect(mayRetry(cutGet, policy), 'strict by default').to.equal(false);
    const lenient = { ...policy, retryIdempotent: true };
    expect(mayRetry(cutGet, lenient)).to.equal(true);
    expect(mayRetry({ ...cutGet, method: 'POST' }, lenient)).to.equal(false);
    expect(mayRetry({ ...cutGet, bodyUntouched: false }, lenient)).to.equal(false);
    expect(mayRetry({ ...base, kind: 'header_timeout', method: 'GET' }, lenient)).to.equal(false);
  });

  it('doubles the ejection with consecutive failures up to the ceiling', () => {
    expect([1, 2, 3, 4, 10].map((n) => computeEjectionMs(n, policy))).to.deep.equal([1000, 2000, 4000, 5000, 5000]);
  });
});
