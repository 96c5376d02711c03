// Runs the CLI from source in a child process (tests that kill or signal the process).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
