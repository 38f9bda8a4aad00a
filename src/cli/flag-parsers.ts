/**
 * Value parsers for CLI flags (commander argParsers). Each throws commander's
 * InvalidArgumentError with what was expected, which main.ts turns into one
 * line on stderr and exit code 2. Pure.
 */
import { InvalidArgumentError } from 'commander';

export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new InvalidArgumentError('expected a TCP port 1-65535.');
  }
  return Number(value);
}

export function parsePositiveInt(max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer 1-${max}.`);
    }
    return Number(value);
  };
}

export function parseNonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty value.');
  return value;
}

/** An integer 0..max (a count that may be zero). */
export function parseCount(max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) > max) throw new InvalidArgumentError(`expected an integer 0-${max}.`);
    return Number(value);
  };
}
