/**
 * Loaded by mocha before any test file (.mocharc.json `require`): the
 * daemons under test log nothing unless CYGNET_LOG_LEVEL says otherwise,
 * however mocha was started (`npm test`, `npm run test:compat`, or
 * `npx mocha some.test.ts` while working on one file). Children inherit it;
 * helpers that want a child's log set the level for that child.
 */
process.env.CYGNET_LOG_LEVEL ??= 'silent';
