#!/usr/bin/env node
'use strict';
// The CLI is written in TypeScript and compiled to dist/ by `npm install` (the `prepare` script).
try {
  require('../dist/src/cli/main.js').main(process.argv.slice(2));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli/.test(String(err.message))) {
    console.error('atrium: the build output is missing; run `npm install` (or `npm run build`) first.');
    process.exit(1);
  }
  throw err;
}
