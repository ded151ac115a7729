import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { root } from './processes.js';

/** Where `tsc -p bench/tsconfig.build.json` puts Sleutel and the bare provider as plain JavaScript. */
const out = path.join(root, 'bench/.build');

/**
 * Both servers run as compiled JavaScript under plain `node`, as the Docker image runs Sleutel
 * (`node dist/main.js`): tsx's loader would add ~35 MB to each resident size and its hooks to
 * each request. The screens and migrations are found next to the build, as in the image.
 */
export function buildServers(): { sleutel: string; bare: string } {
  const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(root, 'bench/tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  } catch (error) {
    // tsc writes the JavaScript in spite of type errors (no noEmitOnError): a type error in a file
    // someone is still editing need not stop a measurement, but it is reported above
    if ((error as { status?: number }).status !== 2) throw error;
    process.stderr.write('[bench] tsc reported type errors (above); measuring the JavaScript it emitted anyway\n');
  }
  for (const dir of ['interactions', 'migrations']) {
    const link = path.join(out, dir);
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(root, dir), link, 'dir');
  }
  return { sleutel: path.join(out, 'src/main.js'), bare: path.join(out, 'bench/bare/server.js') };
}

/**
 * The node options the Docker image gives Sleutel (its `ENV NODE_OPTIONS=` line), so the bench
 * measures Sleutel's memory and CPU as it is deployed.
 */
export function imageNodeOptions(): string[] {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const line = /^ENV NODE_OPTIONS=("?)(.*)\1$/m.exec(dockerfile);
  return line ? line[2]!.split(/\s+/).filter(Boolean) : [];
}
