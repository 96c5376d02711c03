import type { z } from 'zod';
import { AppError } from '../../shared/errors.js';

/** Parses a request body or query with zod; a mismatch is a 400 naming the fields. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data as z.infer<S>;
  const detail = parsed.error.issues
    .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
    .join('; ');
  throw new AppError('INVALID_ARGUMENT', `The request is not valid: ${detail}.`);
}
