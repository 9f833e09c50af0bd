/**
 * Builds dist/ once before the suite: tests that spawn `trib` or child processes run the
 * compiled JavaScript, exactly as a user's installed package does. (npm test builds in pretest
 * too; this keeps `npx vitest run some.test.ts` honest when sources changed since.)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (process.env.TRIB_SKIP_BUILD === '1') return;
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'pipe',
    });
  } catch {
    // Type errors still emit JavaScript; `npm test` fails on them in its type-check step.
  }
}
