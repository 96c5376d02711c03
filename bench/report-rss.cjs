// Preloaded into a benchmarked child process (node --require): on exit, prints the
// process's peak resident set size so the parent can compare memory across tools.
process.on('exit', () => {
  process.stderr.write(`\nFB_BENCH_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});
