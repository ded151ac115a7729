#!/usr/bin/env node
// The `sleutel` command. In the Docker image (no src/) it runs the built CLI; in a checkout it runs
// the TypeScript sources through tsx, even when `npm run build` has left a dist/ behind: that build
// may be older than the sources, and plain node cannot load the .ts migrations beside it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const sources = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  await import(built);
}
