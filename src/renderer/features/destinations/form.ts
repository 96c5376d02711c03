import { z } from 'zod';
import { formSchemaFromFields, type DestinationKind } from '../../../shared/destination-forms.js';

/** The destination form's schema for one kind: name, location, and that kind's options. */
export function destinationFormSchema(kind: DestinationKind) {
  return z.object({
    name: z.string().trim().min(1, 'give it a name').max(100),
    url: z
      .string()
      .trim()
      .min(1, kind.kind === 'local' ? 'the full path of a folder' : `a URL like ${kind.example}`)
      .refine(
        (u) =>
          kind.kind === 'local'
            ? !/^[a-z][a-z0-9+.-]*:\/\//i.test(u) || u.startsWith('file://')
            : u.startsWith(`${kind.kind}://`),
        kind.kind === 'local'
          ? 'a folder path, not a URL'
          : `starts with ${kind.kind}://, e.g. ${kind.example}`,
      ),
    options: formSchemaFromFields(kind.fields),
    /** The kind's stored secret; empty: none given (an edit keeps the saved one). */
    secret: z.string().optional(),
  });
}

/** Options to send: what the form set (unset text and unticked boxes are left out). */
export function cleanOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined && v !== false && v !== ''),
  );
}

/** The secret to send: what was typed, or nothing (blank is "not given", never ""). */
export function secretToSend(secret: string | undefined): { secret?: string } {
  return secret && secret.trim() ? { secret } : {};
}

/** The environment variables a secret field's description names ("Env: AWS_SECRET_ACCESS_KEY."). */
export function envNames(description: string): string[] {
  const match = /Env: ([A-Z0-9_, ]+)/.exec(description);
  return match
    ? match[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}
