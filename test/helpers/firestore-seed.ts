import { randomBytes } from 'node:crypto';
import {
  openFirestore,
  type FirestoreConnection,
} from '../../src/engine/sources/firestore/connection.js';
import type { ProtoDocument, ProtoValue } from '../../src/engine/sources/firestore/protos.js';
import { autoId, writeRaw } from '../../src/engine/sources/firestore/testing/seed.js';

export { bareRead } from '../../src/engine/sources/firestore/testing/bare-read.js';
export { autoId, writeRaw };

export interface SeedOptions {
  /** Total documents written (root documents plus subcollection documents). */
  count: number;
  /** Give every root document one child in `<root>/<id>/events/<id>`: half the docs nest. */
  withSubcollections?: boolean;
  /** Approximate encoded size of each document. */
  docBytes?: number;
  /** Root collections the documents are spread over, round robin. */
  rootCollections?: string[];
  databaseId?: string;
}

/** A ~docBytes document with a spread of value types, like a real app's. */
export function sampleFields(i: number, docBytes: number): Record<string, ProtoValue> {
  const fields: Record<string, ProtoValue> = {
    name: { stringValue: `user number ${i}` },
    n: { integerValue: String(i) },
    score: { doubleValue: i / 7 },
    active: { booleanValue: i % 2 === 0 },
    at: { timestampValue: { seconds: String(1_700_000_000 + i), nanos: (i * 1000) % 1e9 } },
    tags: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } },
    address: {
      mapValue: {
        fields: { city: { stringValue: 'Paris' }, zip: { stringValue: '75001' } },
      },
    },
  };
  const used = 200;
  fields.padding = { stringValue: 'x'.repeat(Math.max(0, docBytes - used)) };
  return fields;
}

/**
 * Seeds the emulator fast: batchWrite of 500 writes, several batches in flight. Returns
 * the paths written (relative to the documents root).
 */
export async function seedDocuments(
  host: string,
  project: string,
  options: SeedOptions,
): Promise<string[]> {
  const conn = await openFirestore({
    projectId: project,
    databaseId: options.databaseId,
    emulatorHost: host,
  });
  try {
    return await seedWith(conn, options);
  } finally {
    await conn.close();
  }
}

export async function seedWith(conn: FirestoreConnection, options: SeedOptions): Promise<string[]> {
  const { count, withSubcollections = false, docBytes = 1000 } = options;
  const roots = options.rootCollections ?? ['users', 'orders', 'products'];
  const paths: string[] = [];
  for (let i = 0; paths.length < count; i++) {
    const root = `${roots[i % roots.length]}/${autoId()}`;
    paths.push(root);
    if (withSubcollections && paths.length < count) paths.push(`${root}/events/${autoId()}`);
  }
  await writeRaw(
    conn,
    paths.map((path, i) => ({ path, fields: sampleFields(i, docBytes) })),
  );
  return paths;
}

/** A fresh project id per test, so tests sharing one emulator never see each other's data. */
export function testProject(prefix: string): string {
  return `demo-${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Every stored document of a database as raw protos, keyed by relative path. */
export async function readAllRaw(conn: FirestoreConnection): Promise<Map<string, ProtoDocument>> {
  const out = new Map<string, ProtoDocument>();
  const stream = conn.client.runQuery(
    {
      parent: conn.documentsRoot,
      structuredQuery: {
        from: [{ allDescendants: true }],
        orderBy: [{ field: { fieldPath: '__name__' } }],
      },
    },
    conn.callOptions(),
  );
  for await (const r of stream as AsyncIterable<{ document?: ProtoDocument | null }>) {
    if (r.document?.name) {
      out.set(r.document.name.slice(conn.documentsRoot.length + 1), r.document);
    }
  }
  return out;
}

/**
 * A canonical, type-exact string of a raw proto value tree, independent of the codec
 * under test: -0, NaN and ±Infinity spelled out, bytes as hex, and the oneof case
 * (valueType) kept, so integer 1 and double 1.0 differ.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number') {
      if (Object.is(v, -0)) return '<-0>';
      if (!Number.isFinite(v)) return `<${v}>`;
      return v;
    }
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
      return `<bytes ${Buffer.from((v as { data: number[] }).data).toString('hex')}>`;
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      // Key order is not meaningful in a map: sort it.
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
      );
    }
    return v;
  });
}
