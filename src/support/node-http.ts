// node:http through `require`, never through an ES `import`. To build an ES module namespace of a
// builtin, Node reads every one of its exports, and node:http's lazy ones (`WebSocket`,
// `CloseEvent`, `MessageEvent`) then load Node's own bundled undici: about 13 MiB of RSS and
// 0.7 MiB of source the operator never uses (docs/benchmarks.md, "Memory").
// `import type` from node:http stays fine: it is erased.
import { createRequire } from 'node:module';

export const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
