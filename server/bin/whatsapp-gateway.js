#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=25
// A 4 MB young generation, and an old generation collected once it has grown by 25% (by default V8 lets
// it grow several times over between collections under load), keep the gateway near 150 MB RSS at the
// same throughput (bench/ measures it; docs/benchmarks.md).
// Built by `npm ci` (the server package's prepare script) or `npm run build:server`.
require('../dist/cli/main.js');
