// Prints the closing line CI reads: "tests: N passed, N failed, N skipped".
// Fails when the run executed no test at all, so an empty run can never look green.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "test-results.json";
let results;
try {
  results = JSON.parse(readFileSync(file, "utf8"));
} catch (error) {
  console.error(`test-summary: cannot read ${file}: ${error.message}`);
  process.exit(1);
}
const passed = results.numPassedTests ?? 0;
const failed = results.numFailedTests ?? 0;
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed + failed === 0) {
  console.error("test-summary: no test ran");
  process.exit(1);
}
if (failed > 0 || results.success === false) process.exit(1);
