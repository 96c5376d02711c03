/**
 * Puts a small, realistic data set into a Firestore emulator, to try backups on:
 *   npm run seed -- --project demo-app [--emulator 127.0.0.1:8085] [--database (default)] [--users 20]
 * Users with orders and order items (subcollections two deep), products, chats with
 * messages; every Firestore value type. The emulator address defaults to
 * $FIRESTORE_EMULATOR_HOST (set by `source scripts/firestore-emulator.sh start`).
 * It only ever writes to an emulator: it refuses to run without one.
 */
import { parseArgs } from 'node:util';
import { openFirestore } from '../src/engine/sources/firestore/connection.js';
import { demoShop, writeRaw } from '../src/engine/sources/firestore/testing/seed.js';

const { values } = parseArgs({
  options: {
    project: { type: 'string' },
    emulator: { type: 'string' },
    database: { type: 'string', default: '(default)' },
    users: { type: 'string', default: '20' },
  },
});
const host = values.emulator ?? process.env.FIRESTORE_EMULATOR_HOST;
const users = Number(values.users);
if (!values.project || !host || !Number.isInteger(users) || users < 1) {
  process.stderr.write(
    'usage: npm run seed -- --project <id> [--emulator host:port] [--database <id>] [--users <n>]\n' +
      'The emulator address comes from --emulator or $FIRESTORE_EMULATOR_HOST ' +
      '(source scripts/firestore-emulator.sh start sets it).\n',
  );
  process.exit(2);
}
const conn = await openFirestore({
  projectId: values.project,
  databaseId: values.database,
  emulatorHost: host,
});
try {
  const docs = demoShop(conn.documentsRoot, users);
  await writeRaw(conn, docs);
  process.stdout.write(
    `Wrote ${docs.length} documents into ${values.project}/${values.database} at ${host}.\n`,
  );
} finally {
  await conn.close();
}
