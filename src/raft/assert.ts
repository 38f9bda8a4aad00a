/**
 * Impossible states inside the Raft core. Thrown only when an invariant is
 * broken (a bug or corrupted input), never for protocol outcomes, and always
 * naming the state, e.g. "invalid transition [leader -> preCandidate]".
 */
import { CygnetError } from '../common/errors.ts';

export class RaftAssertionError extends CygnetError {
  constructor(message: string) {
    super('CYG_INTERNAL', `raft invariant broken: ${message}`);
  }
}
