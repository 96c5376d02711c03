// The bare paginated read as a program of its own (compiled engine, no tsx), so the
// benchmark compares it with the `firebackup backup` process on equal terms: both cold
// processes, timed from start to exit. Usage: node bench/bare-read-child.mjs <project> <host>
import { openFirestore } from '../dist/engine/sources/firestore/connection.js';
import { bareRead } from '../dist/engine/sources/firestore/testing/bare-read.js';

const [projectId, emulatorHost] = process.argv.slice(2);
const conn = await openFirestore({ projectId, emulatorHost });
const result = await bareRead(conn);
await conn.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
