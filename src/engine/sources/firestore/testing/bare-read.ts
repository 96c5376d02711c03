import type { FirestoreConnection } from '../connection.js';
import type { ProtoRunQueryResponse } from '../protos.js';

/**
 * The simplest correct full read: one kindless all-descendants query ordered by
 * __name__, paged with a startAfter cursor, one page at a time, decoding nothing. It is
 * the baseline the export benchmark is compared against, so keep it naive on purpose.
 */
export async function bareRead(
  conn: FirestoreConnection,
  pageSize = 5000,
): Promise<{ documents: number; ms: number }> {
  const started = performance.now();
  let documents = 0;
  let last: string | undefined;
  for (;;) {
    const stream = conn.client.runQuery(
      {
        parent: conn.documentsRoot,
        structuredQuery: {
          from: [{ allDescendants: true }],
          orderBy: [{ field: { fieldPath: '__name__' }, direction: 'ASCENDING' }],
          limit: { value: pageSize },
          ...(last ? { startAt: { values: [{ referenceValue: last }], before: false } } : {}),
        },
      },
      conn.callOptions(),
    );
    let inPage = 0;
    for await (const response of stream as AsyncIterable<ProtoRunQueryResponse>) {
      if (response.document?.name) {
        last = response.document.name;
        inPage++;
      }
    }
    documents += inPage;
    if (inPage < pageSize) break;
  }
  return { documents, ms: performance.now() - started };
}
