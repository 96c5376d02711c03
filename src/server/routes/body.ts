import type { FastifyRequest } from 'fastify';
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

/** A path parameter of the route ('' when missing). */
export function param(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? '';
}

/** 404 for a resource the caller's organisation does not hold (others' included). */
export function notFound(what: string, id: string): AppError {
  return new AppError('NOT_FOUND', `No ${what} ${id} in this organisation.`);
}
