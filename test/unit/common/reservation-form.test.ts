/**
 * Mesos' two forms of a reservation: `role` (before reservation refinement,
 * what cygnet keeps) and a `reservations` stack (what RESERVATION_REFINEMENT
 * frameworks see and send). A stack of one STATIC reservation is the same as
 * `role`; anything else (a dynamic reservation, a refinement) is left as sent.
 */
import { expect } from 'chai';
import { toRefinedForm, toRoleForm } from '../../../src/common/resources.ts';
import type { Resource } from '../../../src/protocol/resource-types.ts';

const cpus = (extra: Partial<Resource>): Resource => ({ name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, ...extra });

describe('reservation forms (role ↔ reservations)', () => {
  it('a role becomes one STATIC reservation and back, and nothing else changes', () => {
    const refined = toRefinedForm(cpus({ role: 'web', allocation_info: { role: 'web' } }));
    expect(refined).to.deep.equal(cpus({ reservations: [{ type: 'STATIC', role: 'web' }], allocation_info: { role: 'web' } }));
    expect(toRoleForm(refined)).to.deep.equal(cpus({ role: 'web', allocation_info: { role: 'web' } }));
    // A type left out is STATIC, as in Mesos.
    expect(toRoleForm(cpus({ reservations: [{ role: 'web' }] }))).to.deep.equal(cpus({ role: 'web' }));
  });

  it('unreserved stays unreserved either way, and an empty stack is dropped', () => {
    const plain = cpus({});
    expect(toRefinedForm(plain)).to.equal(plain);
    expect(toRefinedForm(cpus({ role: '*' }))).to.deep.equal(cpus({ role: '*' }));
    expect(toRoleForm(cpus({ reservations: [] }))).to.deep.equal(plain);
    expect(toRoleForm(plain)).to.equal(plain);
  });

  it('a dynamic reservation, a refinement or a resource with both forms is left as sent', () => {
    for (const r of [
      cpus({ reservations: [{ type: 'DYNAMIC', role: 'web', principal: 'ops' }] }),
      cpus({ reservations: [{ type: 'STATIC', role: 'eng' }, { type: 'DYNAMIC', role: 'eng/web' }] }),
      cpus({ role: 'web', reservations: [{ type: 'STATIC', role: 'web' }] }),
    ]) {
      expect(toRoleForm(r)).to.equal(r);
      expect(toRefinedForm(r)).to.equal(r);
    }
  });
});
