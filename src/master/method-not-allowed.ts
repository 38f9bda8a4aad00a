/**
 * 405 for the POST-only APIs, with Mesos' wording. A CygnetError subclass so
 * http-errors.ts maps it like every other failure.
 */
import { CygnetError } from '../common/errors.ts';

export class MethodNotAllowed extends CygnetError {
  constructor(method: string) {
    super('CYG_BAD_REQUEST', `Expecting 'POST', received '${method}'`);
  }
  override get httpStatus(): number {
    return 405;
  }
}
