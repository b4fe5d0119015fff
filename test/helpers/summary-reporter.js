/** Prints the plain closing line "jest: N passed, N failed" (plus skipped) that CI reads. */
class SummaryReporter {
	onRunComplete(_contexts, results) {
		const skipped = results.numPendingTests + results.numTodoTests;
		const tail = skipped > 0 ? `, ${skipped} skipped` : '';
		process.stdout.write(`jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed${tail}\n`);
	}
}
module.exports = SummaryReporter;
