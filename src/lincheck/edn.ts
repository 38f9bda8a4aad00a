/**
 * A minimal EDN reader for Jepsen history lines: maps, vectors, lists,
 * keywords, strings (with escapes), integers, nil, true/false. Enough for
 * `{:process 0, :type :ok, :f :get, :key "k", :value "x"}`; not a general
 * EDN implementation (no tags, sets, chars, symbols beyond the keyword set).
 *
 * Invariants: never throws anything but `ValidationError` naming the line and
 * column; keywords come back as `Keyword` objects so `:nil` and `nil` differ.
 * No I/O here.
 */
import { ValidationError } from '../common/errors.ts';

export class Keyword {
  constructor(readonly name: string) {}
  toString(): string {
    return `:${this.name}`;
  }
}

export type EdnValue = null | boolean | number | string | Keyword | EdnValue[] | EdnMap;
/** Map keys are kept by their printed form (`:process`, `"k"`, `1`). */
export type EdnMap = ReadonlyMap<string, EdnValue>;

/** Parses one EDN value that must span the whole `text`; `where` prefixes error paths (e.g. `line 7`). */
export function parseEdn(text: string, where: string): EdnValue {
  const reader = new Reader(text, where);
  const value = reader.value();
  reader.skipSpace();
  if (!reader.atEnd()) reader.fail('end of input');
  return value;
}

/** The printed form of a value, used for map keys and messages. */
export function printEdn(v: EdnValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v instanceof Keyword) return String(v);
  if (Array.isArray(v)) return `[${v.map(printEdn).join(' ')}]`;
  return `{${[...v].map(([k, x]) => `${k} ${printEdn(x)}`).join(', ')}}`;
}

const SYMBOL_CHAR = /[A-Za-z0-9*+!\-_?<>=./]/;
/** Nesting allowed before a line is rejected: history lines are flat, this stops stack blowups. */
const MAX_DEPTH = 32;

class Reader {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly text: string,
    private readonly where: string,
  ) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(expected: string, at = this.pos): never {
    const got = at >= this.text.length ? 'end of input' : JSON.stringify(this.text.slice(at, at + 12));
    throw new ValidationError(`${this.where}, column ${at + 1}`, expected, got);
  }

  skipSpace(): void {
    while (!this.atEnd() && /[\s,]/.test(this.text[this.pos])) this.pos++;
  }

  value(): EdnValue {
    this.skipSpace();
    if (this.atEnd()) this.fail('a value');
    const c = this.text[this.pos];
    if (c === '{') {
      const start = this.pos;
      return this.collection('}', (items) => this.toMap(items, start));
    }
    if (c === '[') return this.collection(']', (items) => items);
    if (c === '(') return this.collection(')', (items) => items);
    if (c === '"') return this.string();
    if (c === ':') {
      this.pos++;
      const name = this.symbol();
      if (name === '') this.fail('a keyword name');
      return new Keyword(name);
    }
    const sym = this.symbol();
    if (sym === 'nil') return null;
    if (sym === 'true') return true;
    if (sym === 'false') return false;
    if (/^[-+]?\d+$/.test(sym)) return Number(sym);
    return this.fail('a map, vector, string, keyword, integer, nil or boolean');
  }

  private collection<T extends EdnValue>(close: string, build: (items: EdnValue[]) => T): T {
    if (++this.depth > MAX_DEPTH) this.fail(`nesting of at most ${MAX_DEPTH}`);
    this.pos++;
    const items: EdnValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.atEnd()) this.fail(`"${close}"`);
      if (this.text[this.pos] === close) break;
      items.push(this.value());
    }
    this.pos++;
    this.depth--;
    return build(items);
  }

  private toMap(items: EdnValue[], start: number): EdnMap {
    if (items.length % 2 !== 0) this.fail('a map with an even number of forms', start);
    const map = new Map<string, EdnValue>();
    for (let i = 0; i < items.length; i += 2) map.set(printEdn(items[i]), items[i + 1]);
    return map;
  }

  private symbol(): string {
    const start = this.pos;
    while (!this.atEnd() && SYMBOL_CHAR.test(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private string(): string {
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail('a closing \'"\'');
      const c = this.text[this.pos++];
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      if (this.atEnd()) this.fail('an escape character');
      const e = this.text[this.pos++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
      if (e in simple) out += simple[e];
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos, this.pos + 4))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.pos, this.pos + 4), 16));
        this.pos += 4;
      } else {
        this.pos--;
        this.fail('an escape (\\n \\t \\r \\" \\\\ \\uXXXX)');
      }
    }
  }
}
