/**
 * Writing documents into a Firestore emulator quickly, for the tests, the benchmarks and
 * `npm run seed` (scripts/seed-emulator.ts). Not used by backups or restores: it writes
 * without preconditions, which only suits a database made for trying things.
 */
import { randomBytes } from 'node:crypto';
import type { FirestoreConnection } from '../connection.js';
import type { ProtoValue, ProtoWrite } from '../protos.js';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Firestore-style 20-character auto id: uniformly spread over the key space. */
export function autoId(): string {
  const bytes = randomBytes(20);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

export interface RawDocument {
  /** Relative to the documents root: "users/alice". */
  path: string;
  fields: Record<string, ProtoValue>;
}

/** Writes raw proto documents with batchWrite (no preconditions), 4 batches in flight. */
export async function writeRaw(conn: FirestoreConnection, docs: RawDocument[]): Promise<void> {
  const batches: ProtoWrite[][] = [];
  for (let i = 0; i < docs.length; i += 500) {
    batches.push(
      docs.slice(i, i + 500).map((d) => ({
        update: { name: `${conn.documentsRoot}/${d.path}`, fields: d.fields },
      })),
    );
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const writes = batches[next++];
      const [res] = await conn.client.batchWrite(
        { database: conn.databaseName, writes },
        conn.callOptions(),
      );
      const failed = (res.status ?? []).find((s) => (s.code ?? 0) !== 0);
      if (failed) throw new Error(`seeding failed: ${failed.code} ${failed.message}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

const s = (stringValue: string): ProtoValue => ({ stringValue });
const int = (n: number): ProtoValue => ({ integerValue: String(n) });
const ts = (seconds: number, nanos = 0): ProtoValue => ({
  timestampValue: { seconds: String(seconds), nanos },
});

/**
 * A small shop, as a new user would have: users with orders (and order items two levels
 * down), products, and chat rooms with messages; every Firestore value type appears
 * (null, boolean, integer, double, timestamp, string, bytes, reference, geo point, array,
 * map), with the edge values a backup must keep exactly (int64 limits, -0, NaN,
 * nanosecond timestamps, unicode ids).
 */
export function demoShop(documentsRoot: string, users = 20): RawDocument[] {
  const docs: RawDocument[] = [];
  const ref = (path: string): ProtoValue => ({ referenceValue: `${documentsRoot}/${path}` });
  const products = ['coffee', 'tea', 'mug', 'grinder', 'kettle'];
  products.forEach((id, i) =>
    docs.push({
      path: `products/${id}`,
      fields: {
        name: s(id[0]!.toUpperCase() + id.slice(1)),
        priceCents: int(450 + i * 1000),
        rating: { doubleValue: 3.5 + i / 4 },
        inStock: { booleanValue: i % 2 === 0 },
        discontinued: { nullValue: 'NULL_VALUE' },
        thumbnail: { bytesValue: Buffer.from([0x89, 0x50, 0x4e, 0x47, i]) },
        tags: { arrayValue: { values: [s('shop'), s(i % 2 ? 'drink' : 'gear')] } },
      },
    }),
  );
  for (let u = 0; u < users; u++) {
    const user = u === 0 ? 'users/zoë' : `users/${autoId()}`;
    docs.push({
      path: user,
      fields: {
        name: s(u === 0 ? 'Zoë Ünicode 🌍' : `User ${u}`),
        age: int(18 + (u % 60)),
        balance: { doubleValue: u % 5 === 0 ? -0 : u * 1.25 },
        joined: ts(1_700_000_000 + u * 86_400, 123_456_789),
        home: { geoPointValue: { latitude: 48.8566 + u / 1000, longitude: 2.3522 } },
        favourite: ref(`products/${products[u % products.length]}`),
        address: {
          mapValue: {
            fields: {
              city: s('Paris'),
              zip: s('75001'),
              location: { mapValue: { fields: { floor: int(u % 7), door: s('B') } } },
            },
          },
        },
        ...(u === 0
          ? {
              maxInt: { integerValue: '9223372036854775807' },
              minInt: { integerValue: '-9223372036854775808' },
              notANumber: { doubleValue: NaN },
              empty: { mapValue: { fields: {} } },
              emptyList: { arrayValue: { values: [] } },
            }
          : {}),
      },
    });
    for (let o = 0; o < 1 + (u % 3); o++) {
      const order = `${user}/orders/${autoId()}`;
      docs.push({
        path: order,
        fields: {
          placed: ts(1_710_000_000 + u * 3600 + o),
          status: s(['new', 'paid', 'shipped'][o % 3]!),
          totalCents: int(1200 + o * 350),
        },
      });
      docs.push({
        path: `${order}/items/${autoId()}`,
        fields: { product: ref(`products/${products[o % products.length]}`), quantity: int(1 + o) },
      });
    }
  }
  for (const room of ['general', 'support']) {
    docs.push({ path: `chats/${room}`, fields: { topic: s(room), open: { booleanValue: true } } });
    for (let m = 0; m < 10; m++) {
      docs.push({
        path: `chats/${room}/messages/${autoId()}`,
        fields: {
          text: s(`message ${m} in ${room}`),
          sent: ts(1_720_000_000 + m * 60, m),
          reactions: { arrayValue: { values: [s('👍'), int(m)] } },
        },
      });
    }
  }
  return docs;
}
