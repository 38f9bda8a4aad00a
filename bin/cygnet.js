#!/usr/bin/env node
// The `cygnet` command. Runs the TypeScript sources directly through tsx, so it
// works right after `npm ci` without a build step.
import { register } from 'tsx/esm/api';

register();
const { main, endQuietlyOnClosedPipe } = await import('../src/cli/main.ts');
endQuietlyOnClosedPipe(process.argv.slice(2));
process.exitCode = await main(process.argv.slice(2));
