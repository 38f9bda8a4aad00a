import { expect } from 'chai';
import { compileZone, type CompiledZone } from '../../../src/dns/answers.ts';
import { nameOfKey } from '../../../src/dns/query.ts';
import { buildZone, type ZoneOptions } from '../../../src/dns/zone.ts';
import { ZoneCompiler } from '../../../src/dns/zone-compiler.ts';
import { RegistryState } from '../../../src/registry/registry-state.ts';
import { app, endpoint } from '../../helpers/registry-fixtures.ts';

const options: ZoneOptions = { domain: 'cygnet', ttlSec: 5, negativeTtlSec: 5 };

/** Every (name, type) → answer bytes, for comparing two compiled zones. */
function dump(z: CompiledZone): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, name] of z.byKey) {
    out.set(`${nameOfKey(key)} (exists)`, '');
    for (const [type, answer] of name.byType) out.set(`${nameOfKey(key)}/${type}`, answer.bytes.toString('hex'));
  }
  out.set('SOA', z.soaRecord.toString('hex'));
  return out;
}

describe('dns: incremental zone compiler', () => {
  it('gives the same answers as a full build, and recompiles only the app a delta touched', () => {
    const state = new RegistryState('c', 0);
    const compiler = new ZoneCompiler(options);
    let rev = 0;
    const apply = (d: Parameters<RegistryState['apply']>[0]): void => state.apply(d);
    for (const id of ['/shop/web', '/shop/api', '/web', '/web/0', '/other']) apply({ type: 'APP_UPDATED', revision: ++rev, app: app(id) });
    for (let i = 0; i < 3; i++) {
      apply({ type: 'ENDPOINT_UP', revision: ++rev, endpoint: endpoint('/shop/web', `w${i}`, { index: i, ip: `10.0.0.${i + 1}` }) });
      apply({ type: 'ENDPOINT_UP', revision: ++rev, endpoint: endpoint('/web', `x${i}`, { index: i, ip: `10.0.0.${i + 1}` }) });
    }
    apply({ type: 'ENDPOINT_UP', revision: ++rev, endpoint: endpoint('/web/0', 'z', { index: 0, ip: '10.0.9.9' }) });
    let incremental = compiler.compile(state);
    expect(compiler.lastRecompiledApps).to.equal(5);
    expect(dump(incremental)).to.deep.equal(dump(compileZone(buildZone(state, options), state.revision)));

    apply({ type: 'ENDPOINT_DOWN', revision: ++rev, appId: '/shop/web', taskId: 'w1' });
    apply({ type: 'CLUSTER_UPDATED', revision: ++rev, cluster: { leader: '10.9.9.9:8080' } });
    incremental = compiler.compile(state, new Set(['/shop/web'])); // only the app the deltas named is looked at
    expect(compiler.lastRecompiledApps).to.equal(1);
    expect(dump(incremental)).to.deep.equal(dump(compileZone(buildZone(state, options), state.revision)));

    apply({ type: 'APP_REMOVED', revision: rev + 1, appId: '/web/0' }); // frees instance name 0.web.cygnet for /web
    incremental = compiler.compile(state, new Set(['/web/0'])); // an app gone: names may move, so everything is replanned
    expect(compiler.lastRecompiledApps).to.equal(1);
    expect(dump(incremental)).to.deep.equal(dump(compileZone(buildZone(state, options), state.revision)));
  });
});
