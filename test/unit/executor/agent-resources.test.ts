/** Resource detection from host facts, and --resources / --attributes overrides. */
import { expect } from 'chai';
import { tmpdir } from 'node:os';
import { computeAgentAttributes, computeAgentResources, detectHostFacts, usable } from '../../../src/executor/agent-resources.ts';
import { ValidationError } from '../../../src/common/errors.ts';

describe('executor/agent-resources', () => {
  const facts = { cpus: 8, memTotalMb: 16384, diskTotalMb: 100_000 };

  it('detects cpus, mem and disk minus the host reserve, and default ports', () => {
    const rs = computeAgentResources(facts, undefined);
    const by = Object.fromEntries(rs.map((r) => [r.name, r]));
    expect(by.cpus.scalar?.value).to.equal(8);
    expect(by.mem.scalar?.value).to.equal(16384 - 1024);
    expect(by.disk.scalar?.value).to.equal(100_000 - 5120);
    expect(by.ports.ranges?.range).to.deep.equal([{ begin: 31000, end: 32000 }]);
    expect(usable(1000, 1024, 0.5)).to.equal(500);
  });

  it('overrides per name and adds new names', () => {
    const rs = computeAgentResources(facts, 'cpus:4;mem:2048;ports:[41000-41010];gpus:1');
    const by = Object.fromEntries(rs.map((r) => [r.name, r]));
    expect(by.cpus.scalar?.value).to.equal(4);
    expect(by.mem.scalar?.value).to.equal(2048);
    expect(by.disk.scalar?.value).to.equal(100_000 - 5120);
    expect(by.ports.ranges?.range).to.deep.equal([{ begin: 41000, end: 41010 }]);
    expect(by.gpus.scalar?.value).to.equal(1);
  });

  it('rejects a malformed --resources with the field path', () => {
    expect(() => computeAgentResources(facts, 'cpus:four')).to.throw(ValidationError, /resources\[0\]/);
  });

  it('parses attributes', () => {
    const attrs = computeAgentAttributes('rack:a;zone:z1');
    expect(attrs.map((a) => `${a.name}=${a.text?.value}`)).to.deep.equal(['rack=a', 'zone=z1']);
  });

  it('reads real host facts', async () => {
    const f = await detectHostFacts(tmpdir());
    expect(f.cpus).to.be.greaterThan(0);
    expect(f.memTotalMb).to.be.greaterThan(0);
    expect(f.diskTotalMb).to.be.greaterThan(0);
  });
});
