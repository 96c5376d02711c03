import { z } from 'zod';

/**
 * A destination back end's options as a form: one field per option of the back end's zod
 * schema (src/engine/storage/<kind>/options.ts), described as data so it can cross to the
 * renderer (which cannot import the engine). The engine turns the schema into JSON Schema
 * (zod-to-json-schema) and then into these fields; the renderer turns the fields back into
 * a zod schema for react-hook-form, and the dispatcher validates with the original.
 *
 * Descriptions starting with "Secret." mark values the catalog never stores: such fields
 * are listed (so the form can say which environment variable to set) but flagged `secret`.
 */
export const OptionFieldSchema = z.object({
  name: z.string(),
  type: z.enum(['string', 'number', 'integer', 'boolean']),
  /** What it is, where it defaults from ("Env: …", "Default: …"), without the "Secret." mark. */
  description: z.string(),
  secret: z.boolean(),
  /** A secret the app keeps in its SecretStore: the form takes it (never shows it back). */
  stored: z.boolean().optional(),
  required: z.boolean(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  minLength: z.number().int().optional(),
  pattern: z.string().optional(),
  format: z.enum(['uri']).optional(),
});
export type OptionField = z.infer<typeof OptionFieldSchema>;

export const DestinationKindSchema = z.object({
  /** 'local', or the URL scheme of a remote kind ('s3', 'gs'). */
  kind: z.string(),
  label: z.string(),
  /** A valid URL (or path) of this kind. */
  example: z.string(),
  /** A ready-made URL to offer (the local kind's default folder), when there is one. */
  suggestedUrl: z.string().optional(),
  fields: z.array(OptionFieldSchema),
});
export type DestinationKind = z.infer<typeof DestinationKindSchema>;

const SECRET_MARK = /^Secret\.\s*/;

/** Words that read as initials in a label. */
const INITIALS: Record<string, string> = { id: 'ID', json: 'JSON', url: 'URL' };

/**
 * The label a person reads for an option whose name the CLI and the catalog use:
 * `accessKeyId` → "Access key ID", `chunkSizeMiB` → "Chunk size (MiB)".
 */
export function optionLabel(name: string): string {
  const unit = /MiB$/.exec(name) ? ' (MiB)' : '';
  const words = name
    .replace(/MiB$/, '')
    .split(/(?=[A-Z])/)
    .map((w) => w.toLowerCase())
    .map((w) => INITIALS[w] ?? w);
  const [first = '', ...rest] = words;
  return [first.charAt(0).toUpperCase() + first.slice(1), ...rest].join(' ') + unit;
}

interface JsonSchemaProperty {
  type?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
}

/**
 * Fields from the JSON Schema of an options object (the subset zod-to-json-schema writes).
 * `storable`: the secret options the app keeps in its SecretStore.
 */
export function fieldsFromJsonSchema(
  json: unknown,
  storable: readonly string[] = [],
): OptionField[] {
  const schema = json as { properties?: Record<string, JsonSchemaProperty>; required?: string[] };
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).flatMap(([name, p]): OptionField[] => {
    if (p.type !== 'string' && p.type !== 'number' && p.type !== 'integer' && p.type !== 'boolean')
      return []; // a kind of option no form can edit; the CLI still takes it
    const description = p.description ?? '';
    return [
      {
        name,
        type: p.type,
        description: description.replace(SECRET_MARK, ''),
        secret: SECRET_MARK.test(description),
        ...(storable.includes(name) ? { stored: true } : {}),
        required: required.has(name),
        ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
        ...(p.maximum !== undefined ? { maximum: p.maximum } : {}),
        ...(p.minLength !== undefined ? { minLength: p.minLength } : {}),
        ...(p.pattern !== undefined ? { pattern: p.pattern } : {}),
        ...(p.format === 'uri' ? { format: 'uri' as const } : {}),
      },
    ];
  });
  // A field that must be given with a secret ("give it with secretAccessKey") is useless
  // stored without it: unless the app keeps that secret, it comes from the environment too.
  const secretNames = fields.filter((f) => f.secret && !f.stored).map((f) => f.name);
  return fields.map((f) =>
    !f.secret && secretNames.some((n) => new RegExp(`\\b${n}\\b`).test(f.description))
      ? { ...f, secret: true }
      : f,
  );
}

/**
 * The zod schema of a form's values for these fields (secret ones left out: they are never
 * stored). Form inputs give strings; an empty one means "not set", and numbers arrive as
 * text, so each field is pre-processed before the checks the back end's schema makes.
 */
export function formSchemaFromFields(fields: readonly OptionField[]) {
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const f of fields) {
    if (f.secret) continue;
    let s: z.ZodTypeAny;
    if (f.type === 'boolean') {
      s = z.boolean();
    } else if (f.type === 'string') {
      let str = z.string();
      if (f.minLength !== undefined) str = str.min(f.minLength);
      if (f.pattern !== undefined) str = str.regex(new RegExp(f.pattern), `expected ${f.pattern}`);
      if (f.format === 'uri') str = str.url('a full URL, e.g. http://127.0.0.1:9000');
      s = str;
    } else {
      let num = z.number({ invalid_type_error: 'a number' });
      if (f.type === 'integer') num = num.int('a whole number');
      if (f.minimum !== undefined) num = num.min(f.minimum);
      if (f.maximum !== undefined) num = num.max(f.maximum);
      s = z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), num);
    }
    const blankToUndefined = (v: unknown) =>
      v === '' || v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v;
    shape[f.name] = f.required
      ? z.preprocess(blankToUndefined, s)
      : z.preprocess(blankToUndefined, s.optional());
  }
  return z.object(shape);
}

/** The options to send: only fields that were set (booleans left unticked are omitted). */
export function optionsFromForm(
  fields: readonly OptionField[],
  values: Record<string, unknown>,
): Record<string, unknown> {
  const parsed = formSchemaFromFields(fields).parse(values) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(parsed).filter(([, v]) => v !== undefined && v !== false),
  );
}
