#!/usr/bin/env node
// The package's `bin`: a plain-JS shim so `npx firebackup` runs the compiled CLI
// (built by `npm ci` through the `prepare` script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
