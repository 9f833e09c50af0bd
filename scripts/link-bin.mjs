// npm links the bins of a project's dependencies into node_modules/.bin, but not the project's
// own: in a checkout, `npm install` (through `prepare`) makes node_modules/.bin/trib point at
// bin/trib.js, so that the command is there as the README says.
import { lstatSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
const target = join(root, 'bin', 'trib.js');
const link = join(binDir, 'trib');

mkdirSync(binDir, { recursive: true });
try {
  lstatSync(link);
  unlinkSync(link);
} catch {
  // no link yet
}
symlinkSync(relative(binDir, target), link);
