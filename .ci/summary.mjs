// Prints vitest's counts as "N passed, N failed[, N skipped]" from its JSON report.
import { existsSync, readFileSync } from 'node:fs';

const [file, statusText] = process.argv.slice(2);
const status = Number(statusText ?? 0);
if (!existsSync(file)) {
  // The build, type check or lint failed before vitest ran: nothing passed.
  console.log(`0 passed, ${status === 0 ? 0 : 1} failed`);
  process.exit(0);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
let failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// A suite that failed to load counts as a failure even when none of its tests ran.
if (failed === 0 && status !== 0) failed = Math.max(1, report.numFailedTestSuites ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
