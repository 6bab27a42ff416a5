// Prints the closing line CI reads: "tests: N passed, N failed, N skipped", summed over the
// vitest JSON reports named on the command line (one per lane; default test-results.json).
// Fails when the runs executed no test at all, so an empty run can never look green, and when a
// report is missing: a lane that died before writing one must not vanish from the count.
import { readFileSync } from "node:fs";

const files = process.argv.length > 2 ? process.argv.slice(2) : ["test-results.json"];
let passed = 0;
let failed = 0;
let skipped = 0;
let success = true;
for (const file of files) {
  let results;
  try {
    results = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    console.error(`test-summary: cannot read ${file}: ${error.message}`);
    process.exit(1);
  }
  passed += results.numPassedTests ?? 0;
  failed += results.numFailedTests ?? 0;
  skipped += (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  if (results.success === false) success = false;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed + failed === 0) {
  console.error("test-summary: no test ran");
  process.exit(1);
}
if (failed > 0 || !success) process.exit(1);
