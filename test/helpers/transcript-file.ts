/**
 * The transcript file format shared by the framework's pure cores (etcd
 * datadriven style, as the allocator's): blocks of
 *
 *   # comment lines
 *   command arg=value ...
 *   ----
 *   expected output lines
 *   <blank line>
 *
 * `runTranscriptFile` feeds each command to a handler and returns actual vs
 * expected; with CYGNET_REWRITE=1 it rewrites the expected sections from the
 * actual output.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Block {
  readonly comment: readonly string[];
  readonly command: string;
  readonly expected: readonly string[];
}

export function parseTranscript(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const comment: string[] = [];
    while (i < lines.length && (lines[i].startsWith('#') || lines[i].trim() === '')) comment.push(lines[i++]);
    if (i >= lines.length) break;
    const command = lines[i++];
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after "${command}"`);
    i++;
    const expected: string[] = [];
    while (i < lines.length && lines[i].trim() !== '') expected.push(lines[i++]);
    blocks.push({ comment, command, expected });
  }
  return blocks;
}

export function formatTranscript(blocks: readonly Block[]): string {
  return blocks.map((b) => [...b.comment, b.command, '----', ...b.expected].join('\n')).join('\n\n').replace(/\n{3,}/g, '\n\n') + '\n';
}

export interface TranscriptResult {
  readonly command: string;
  readonly actual: readonly string[];
  readonly expected: readonly string[];
}

export function runTranscriptFile(path: string, handle: (command: string) => string[]): TranscriptResult[] {
  const blocks = parseTranscript(readFileSync(path, 'utf8'));
  const results = blocks.map((b) => {
    let actual: string[];
    try {
      actual = handle(b.command);
    } catch (err) {
      actual = [`error: ${(err as Error).message}`];
    }
    return { command: b.command, actual, expected: b.expected };
  });
  if (process.env.CYGNET_REWRITE === '1') {
    writeFileSync(path, formatTranscript(blocks.map((b, i) => ({ ...b, expected: results[i].actual }))));
  }
  return results;
}

/** `key=value` words into a map, the rest positional. */
export function parseWords(words: readonly string[]): { positional: string[]; kv: Map<string, string> } {
  const positional: string[] = [];
  const kv = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) kv.set(w.slice(0, eq), w.slice(eq + 1));
    else positional.push(w);
  }
  return { positional, kv };
}
