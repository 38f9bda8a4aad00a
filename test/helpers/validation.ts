/** Assertions on the ValidationErrors that every parser at a boundary throws. */
import { expect } from 'chai';
import { ValidationError } from '../../src/common/errors.ts';

/** The message of the ValidationError `fn` throws; fails the test if it throws nothing or something else. */
export function validationMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return (err as Error).message;
  }
  throw new Error('expected a ValidationError');
}
