import { expect } from 'chai';
import { computeEndpointWeights, computeRouteTable, defaultVhost, describeRouteTable, matchRoute, newBackendState, normalizeHost, pathHasPrefix, type BackendState, type RegistryAppWithEndpoints } from '../../../src/proxy/route-table.ts';
import { app, endpoint } from './fixtures.ts';

const states = new Map<string, BackendState>();
const opts = { domain: 'cygnet', revision: 7, stateOf: (id: string) => states.get(id) ?? states.set(id, newBackendState()).get(id) as BackendState };

describe('proxy route table', () => {
  it('derives the default vhost by reversing the app id, as DNS does', () => {
    expect(defaultVhost('/shop/web', 'cygnet')).to.equal('web.shop.cygnet');
    expect(defaultVhost('/My_App', 'Example.COM')).to.equal('my-app.example.com');
    const table = computeRouteTable([app('/shop/web', {}, [endpoint('/shop/web', 0, 1000)])], opts);
    expect(matchRoute(table, 'WEB.shop.cygnet:8000', '/x')?.appId).to.equal('/shop/web');
    expect(matchRoute(table, 'web.shop.cygnet.', '/')?.appId).to.equal('/shop/web');
    expect(matchRoute(table, 'other.cygnet', '/')).to.equal(undefined);
    expect(matchRoute(table, undefined, '/')).to.equal(undefined);
  });

  it('takes vhosts from CYGNET_VHOST, else HAPROXY_0_VHOST, several separated by commas', () => {
    const table = computeRouteTable([
      app('/a', { CYGNET_VHOST: 'a.example.com, www.a.example.com', HAPROXY_0_VHOST: 'ignored.example.com' }, [endpoint('/a', 0, 1)]),
      app('/b', { HAPROXY_0_VHOST: 'b.example.com' }, [endpoint('/b', 0, 2)]),
    ], opts);
    expect(matchRoute(table, 'www.a.example.com', '/')?.appId).to.equal('/a');
    expect(matchRoute(table, 'a.example.com', '/')?.appId).to.equal('/a');
    expect(matchRoute(table, 'ignored.example.com', '/')).to.equal(undefined);
    expect(matchRoute(table, 'b.example.com', '/')?.appId).to.equal('/b');
  });

  it('routes by the longest path prefix on segment boundaries, ignoring the query', () => {
    const table = computeRouteTable([
      app('/site', { CYGNET_VHOST: 'x.test' }, [endpoint('/site', 0, 1)]),
      app('/api', { CYGNET_VHOST: 'x.test', CYGNET_PATH: '/api' }, [endpoint('/api', 0, 2)]),
      app('/api-v2', { CYGNET_VHOST: 'x.test', CYGNET_PATH: '/api/v2/' }, [endpoint('/api-v2', 0, 3)]),
    ], opts);
    expect(matchRoute(table, 'x.test', '/api')?.appId).to.equal('/api');
    expect(matchRoute(table, 'x.test', '/api?q=1')?.appId).to.equal('/api');
    expect(matchRoute(table, 'x.test', '/api/users')?.appId).to.equal('/api');
    expect(matchRoute(table, 'x.test', '/api/v2/users')?.appId).to.equal('/api-v2');
    expect(matchRoute(table, 'x.test', '/api/v2')?.appId).to.equal('/api-v2');
    expect(matchRoute(table, 'x.test', '/apix')?.appId).to.equal('/site');
    expect(matchRoute(table, 'x.test', '/')?.appId).to.equal('/site');
    expect(pathHasPrefix('/a/b', '/a/')).to.equal(true);
    expect(pathHasPrefix('/ab', '/a')).to.equal(false);
  });

  it('reports conflicts and bad labels as problems and keeps routing the rest', () => {
    const table = computeRouteTable([
      app('/b', { CYGNET_VHOST: 'same.test' }, [endpoint('/b', 0, 2)]),
      app('/a', { CYGNET_VHOST: 'same.test' }, [endpoint('/a', 0, 1)]),
      app('/c', { CYGNET_BALANCE: 'fastest', CYGNET_PATH: 'nope', CYGNET_TCP_PORT: '70000' }, [endpoint('/c', 0, 3)]),
    ], opts);
    expect(matchRoute(table, 'same.test', '/')?.appId).to.equal('/a');
    expect(table.problems).to.deep.equal([
      '/b: same.test/ is already routed to /a',
      "/c: labels.CYGNET_BALANCE: expected one of roundrobin, leastconn, source, got 'fastest'; using roundrobin",
      "/c: labels.CYGNET_PATH: expected a path starting with '/' (no query), got 'nope'; routing '/'",
      "/c: labels.CYGNET_TCP_PORT: expected a TCP port 1-65535, got '70000'",
    ]);
    expect(matchRoute(table, 'c.cygnet', '/')?.balance).to.equal('roundrobin');
  });

  it('keeps an app with no endpoints routable (the forwarder answers 503) and lists TCP ports', () => {
    const table = computeRouteTable([
      app('/db', { CYGNET_TCP_PORT: '15432', CYGNET_HTTP: 'false' }, [endpoint('/db', 0, 5432)]),
      app('/legacy', { HAPROXY_0_MODE: 'tcp' }, []),
      app('/empty', {}, []),
    ], opts);
    expect(matchRoute(table, 'empty.cygnet', '/')?.backends).to.deep.equal([]);
    expect(matchRoute(table, 'db.cygnet', '/')).to.equal(undefined);
    expect([...table.tcp.keys()]).to.deep.equal([15432]);
    expect(table.problems).to.deep.equal(['/legacy: labels.HAPROXY_0_MODE=tcp: ports[0].servicePort is 0; no TCP listener']);
    const view = describeRouteTable(table) as { revision: number; tcp: { listenPort: number; backends: { address: string }[] }[] };
    expect(view.revision).to.equal(7);
    expect(view.tcp[0]?.backends[0]?.address).to.equal('127.0.0.1:5432');
  });

  it("routes an app's other ports by marathon-lb's HAPROXY_<n>_* labels, each with its own failure state", () => {
    const twoPorts = (n: number, web: number, admin: number) => ({ ...endpoint('/svc', n, web), ports: [web, admin] });
    const svc: RegistryAppWithEndpoints = {
      ...app('/svc', {
        HAPROXY_0_VHOST: 'svc.example.com',
        HAPROXY_1_VHOST: 'admin.example.com, ops.example.com',
        HAPROXY_1_PATH: '/console',
        HAPROXY_1_BALANCE: 'leastconn',
        HAPROXY_2_MODE: 'tcp',
        HAPROXY_3_VHOST: 'bad host!',
      }, [twoPorts(0, 1000, 1001), twoPorts(1, 2000, 2001)]),
      ports: [
        { protocol: 'tcp', servicePort: 10000, labels: {} },
        { protocol: 'tcp', servicePort: 10001, labels: {} },
        { protocol: 'tcp', servicePort: 10002, labels: {} },
        { protocol: 'tcp', servicePort: 10003, labels: {} },
      ],
    };
    const table = computeRouteTable([svc], opts);
    expect(matchRoute(table, 'svc.example.com', '/')?.backends.map((b) => b.port)).to.deep.equal([1000, 2000]);
    const admin = matchRoute(table, 'ops.example.com', '/console/users');
    expect([admin?.backends.map((b) => b.port), admin?.balance, admin?.pathPrefix]).to.deep.equal([[1001, 2001], 'leastconn', '/console']);
    expect(matchRoute(table, 'admin.example.com', '/')).to.equal(undefined);
    // Port 2 in TCP mode on its service port; port 2 of these endpoints does not exist, so no backends.
    expect([...table.tcp.keys()]).to.deep.equal([10002]);
    expect(table.problems).to.deep.equal(["/svc: labels.HAPROXY_3_VHOST: expected host names separated by commas, got 'bad host!'"]);
    // Port 1's instances are not port 0's: an ejection on one leaves the other alone.
    expect(admin?.backends[0]?.state).to.not.equal(matchRoute(table, 'svc.example.com', '/')?.backends[0]?.state);
    // Labels for ports the app does not have are ignored.
    const onePort = computeRouteTable([app('/one', { HAPROXY_1_VHOST: 'one.example.com' }, [endpoint('/one', 0, 1)])], opts);
    expect(matchRoute(onePort, 'one.example.com', '/')).to.equal(undefined);
  });

  it('weights endpoints by version as the contract says', () => {
    const eps = [endpoint('/w', 0, 1, 'old'), endpoint('/w', 1, 2, 'old'), endpoint('/w', 2, 3, 'old'), endpoint('/w', 3, 4, 'new'), endpoint('/w', 4, 5, 'other')];
    const w = computeEndpointWeights(eps, { old: 80, new: 20 });
    expect([...w.values()].map((x) => Number(x.toFixed(4)))).to.deep.equal([0.2667, 0.2667, 0.2667, 0.2, 0]);
    // The listed canary has no endpoint yet: the stable version takes everything.
    expect([...computeEndpointWeights(eps.slice(0, 3), { old: 80, new: 20 }).values()].map((x) => Number(x.toFixed(4)))).to.deep.equal([0.3333, 0.3333, 0.3333]);
    // No listed version has endpoints: equal shares rather than nothing.
    expect([...computeEndpointWeights(eps.slice(4), { old: 1 }).values()]).to.deep.equal([1]);
    const table = computeRouteTable([app('/w', {}, eps, { old: 80, new: 20 })], opts);
    expect(matchRoute(table, 'w.cygnet', '/')?.backends.map((b) => b.port)).to.deep.equal([1, 2, 3, 4]);
  });

  it('normalizes Host headers with ports and IPv6 literals', () => {
    expect(normalizeHost('[::1]:8000')).to.equal('[::1]');
    expect(normalizeHost('Example.com:80')).to.equal('example.com');
  });
});
