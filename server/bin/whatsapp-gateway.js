#!/usr/bin/env node
// Built by `npm ci` (the server package's prepare script) or `npm run build:server`.
require('../dist/server/src/cli/main.js');
