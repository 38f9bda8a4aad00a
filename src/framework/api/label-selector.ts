/**
 * Marathon's `label` query selector (GET /v2/apps?label=…), with its grammar
 * and meaning (LabelSelector.scala):
 *
 *   query:    [selector {"," selector}]
 *   selector: term ("in" | "notin") "(" [term {"," term}] ")"
 *           | term ("==" | "!=") term
 *           | term
 *   term:     one or more of A-Z a-z 0-9 - _ . or any character escaped with a backslash
 *
 * Whitespace between tokens is ignored. Every selector must hold, and each
 * one requires the label to be present: `tier != web` does not match an app
 * without a `tier` label. A query that does not parse is refused (422), as
 * Marathon does.
 */
import { CygnetError } from '../../common/errors.ts';

export type LabelTest = (labels: Readonly<Record<string, string>>) => boolean;

interface Selector {
  readonly key: string;
  readonly holds: (value: string) => boolean;
}

const termChar = /[-A-Za-z0-9_.]/;

class SelectorParser {
  private i = 0;

  constructor(private readonly s: string) {}

  /** The whole query, or a reason it does not parse. */
  query(): Selector[] | string {
    const out: Selector[] = [];
    this.skipSpace();
    if (this.i === this.s.length) return out;
    for (;;) {
      const sel = this.selector();
      if (typeof sel === 'string') return sel;
      out.push(sel);
      this.skipSpace();
      if (this.i === this.s.length) return out;
      if (this.s[this.i] !== ',') return `expected ',' or the end at offset ${this.i}, found '${this.s.slice(this.i, this.i + 10)}'`;
      this.i++;
    }
  }

  private selector(): Selector | string {
    const key = this.term();
    if (key === undefined) return `expected a label name at offset ${this.i}`;
    const afterKey = this.i;
    const set = this.setTest();
    if (set !== undefined) return { key, holds: set };
    this.i = afterKey;
    this.skipSpace();
    const op = this.s.slice(this.i, this.i + 2);
    if (op === '==' || op === '!=') {
      this.i += 2;
      const value = this.term();
      if (value === undefined) return `expected a value after '${op}' at offset ${this.i}`;
      return { key, holds: op === '==' ? (v) => v === value : (v) => v !== value };
    }
    this.i = afterKey;
    return { key, holds: () => true };
  }

  /** `in (…)` or `notin (…)`; undefined (position unspecified) when what follows is not one. */
  private setTest(): ((value: string) => boolean) | undefined {
    this.skipSpace();
    const negate = this.s.startsWith('notin', this.i);
    if (!negate && !this.s.startsWith('in', this.i)) return undefined;
    this.i += negate ? 5 : 2;
    this.skipSpace();
    if (this.s[this.i] !== '(') return undefined;
    this.i++;
    const members = new Set<string>();
    this.skipSpace();
    if (this.s[this.i] !== ')') {
      for (;;) {
        const t = this.term();
        if (t === undefined) return undefined;
        members.add(t);
        this.skipSpace();
        if (this.s[this.i] !== ',') break;
        this.i++;
      }
    }
    this.skipSpace();
    if (this.s[this.i] !== ')') return undefined;
    this.i++;
    return negate ? (v) => !members.has(v) : (v) => members.has(v);
  }

  private term(): string | undefined {
    this.skipSpace();
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i] as string;
      if (c === '\\' && this.i + 1 < this.s.length) {
        out += this.s[this.i + 1];
        this.i += 2;
      } else if (termChar.test(c)) {
        out += c;
        this.i++;
      } else break;
    }
    return out === '' ? undefined : out;
  }

  private skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
  }
}

/** A test for an app's labels; throws CYG_VALIDATION (422) when `query` does not parse. */
export function parseLabelSelector(query: string): LabelTest {
  const parsed = new SelectorParser(query).query();
  if (typeof parsed === 'string') throw new CygnetError('CYG_VALIDATION', `Can not parse label selector ${query}. Reason: ${parsed}`);
  return (labels) => parsed.every((sel) => Object.hasOwn(labels, sel.key) && sel.holds(labels[sel.key] as string));
}
