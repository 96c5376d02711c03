/**
 * Type names for the Firestore v1 wire protos as the GAPIC client accepts and returns
 * them (protobufjs objects: int64 as string or Long, bytes as Buffer, oneofs with an
 * extra `valueType` discriminator on decoded messages).
 */
import type { google } from '@google-cloud/firestore/types/protos/firestore_v1_proto_api.js';

export type ProtoValue = google.firestore.v1.IValue & { valueType?: string | null };
export type ProtoDocument = google.firestore.v1.IDocument;
export type ProtoTimestamp = google.protobuf.ITimestamp;
export type ProtoWrite = google.firestore.v1.IWrite;
export type ProtoStructuredQuery = google.firestore.v1.IStructuredQuery;
export type ProtoRunQueryRequest = google.firestore.v1.IRunQueryRequest;
export type ProtoRunQueryResponse = google.firestore.v1.IRunQueryResponse;
export type ProtoBatchGetResponse = google.firestore.v1.IBatchGetDocumentsResponse;
