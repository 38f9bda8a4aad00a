/**
 * Mesos-style identifiers minted by one master run: the master id
 * (`<yyyymmdd-hhmmss>-<random>`), framework ids `<masterId>-0000`, agent ids
 * `<masterId>-S0`, offer ids `<masterId>-O0`. Pure: time and randomness come
 * in as parameters. Invariant: ids of one kind never repeat within a master run.
 */
import { randomInt, type Random } from '../common/random.ts';

export class IdMinter {
  readonly masterId: string;
  private frameworks = 0;
  private agents = 0;
  private offers = 0;
  private streams = 0;

  constructor(nowMs: number, random: Random) {
    const d = new Date(nowMs);
    const p = (n: number, w = 2): string => String(n).padStart(w, '0');
    const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
    this.masterId = `${stamp}-${randomInt(random, 0, 0x7fffffff).toString(16).padStart(8, '0')}`;
    this.random = random;
  }

  private readonly random: Random;

  nextFrameworkId(): string {
    return `${this.masterId}-${String(this.frameworks++).padStart(4, '0')}`;
  }

  nextAgentId(): string {
    return `${this.masterId}-S${this.agents++}`;
  }

  nextOfferId(): string {
    return `${this.masterId}-O${this.offers++}`;
  }

  /** A random RFC 4122 v4 UUID string for `Mesos-Stream-Id`. */
  nextStreamId(): string {
    const bytes: number[] = [];
    for (let i = 0; i < 16; i++) bytes.push(randomInt(this.random, 0, 256));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    this.streams++;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
