// Preloaded into a benchmarked child process (node --require): on exit, prints the
// process's peak resident set size so the parent can compare memory across tools.
// On Linux, getrusage's maxRSS survives fork + exec: a child would report at least the
// bench runner's own peak (seeded buffers included). VmHWM belongs to the exec'd
// process's address space alone, so it is read first. It also prints the CPU time the
// process used (all its threads), which a loaded machine stretches far less than wall time.
const { readFileSync } = require('node:fs');
const { isMainThread } = require('node:worker_threads');

function peakRssKb() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS;
}

// Worker threads run the preloads too: only the process's own exit reports (VmHWM is the
// whole process's, workers included).
process.on('exit', () => {
  if (!isMainThread) return;
  const cpu = process.cpuUsage();
  process.stderr.write(`\nFB_BENCH_MAXRSS_KB=${peakRssKb()}\n`);
  process.stderr.write(`FB_BENCH_CPU_MS=${Math.round((cpu.user + cpu.system) / 1000)}\n`);
});
