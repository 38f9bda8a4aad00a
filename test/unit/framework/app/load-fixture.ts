/** Reads the Marathon app JSON fixtures under test/fixtures/marathon/. */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../../fixtures/marathon/', import.meta.url));

export function fixtureNames(): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
}

export function loadFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(dir + name, 'utf8')) as Record<string, unknown>;
}

/** Runs `fn` and returns what it threw (failing the test if it did not throw). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
