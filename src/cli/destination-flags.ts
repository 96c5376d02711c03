import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { backendKinds, openDestination, schemeOf } from '../engine/storage/index.js';
import type { StorageBackend } from '../engine/storage/backend.js';
import { fromFsError } from '../engine/util/fs-errors.js';
import {
  resolveBackup,
  type ResolveOptions,
  type ResolvedBackup,
} from '../engine/operations/resolve-backup.js';

/**
 * CLI flags for destination options, made from each back end's zod schema (the same
 * schema validates them and drives settings forms): `--s3-region`, `--gs-key-filename`…
 * Secret fields get no flag — a command line is visible to other users and kept in shell
 * history — so secrets come from the environment or a --destination-config file.
 */
interface OptionFlag {
  scheme: string;
  field: string;
  attribute: string;
  kind: 'string' | 'number' | 'boolean';
  description: string;
}

function baseType(schema: z.ZodTypeAny): z.ZodTypeAny {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) {
    s = s instanceof z.ZodDefault ? s._def.innerType : s.unwrap();
  }
  return s;
}

/** partSizeMiB → part-size-mib: a unit stays one word. */
function kebab(name: string): string {
  return name.replace(/MiB$/, 'Mib').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The attribute commander stores `--a-b-c` under: aBC. */
function camel(flagName: string): string {
  return flagName.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The spelling before units were kept whole (--s3-part-size-mi-b): still accepted, not shown. */
function legacyKebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Every option field of every registered kind, with whether its schema marks it secret. */
function optionFields(): Array<OptionFlag & { secret: boolean }> {
  const fields: Array<OptionFlag & { secret: boolean }> = [];
  for (const kind of backendKinds()) {
    const schema = kind.optionsSchema as unknown as z.ZodTypeAny;
    const object = baseType(schema instanceof z.ZodEffects ? schema.innerType() : schema);
    if (!(object instanceof z.ZodObject)) continue;
    const scheme = kind.schemes[0]!;
    for (const [field, fieldSchema] of Object.entries(
      object.shape as Record<string, z.ZodTypeAny>,
    )) {
      const description = fieldSchema.description ?? '';
      const base = baseType(fieldSchema);
      const type =
        base instanceof z.ZodNumber
          ? 'number'
          : base instanceof z.ZodBoolean
            ? 'boolean'
            : 'string';
      const attribute = camel(`${scheme}-${kebab(field)}`);
      fields.push({
        scheme,
        field,
        attribute,
        kind: type,
        description,
        secret: description.startsWith('Secret.'),
      });
    }
  }
  return fields;
}

function optionFlags(): OptionFlag[] {
  return optionFields().filter((f) => !f.secret);
}

/** The option names the schema of `location`'s kind marks secret (never to be stored). */
export function secretOptionNames(location: string): string[] {
  const scheme = schemeOf(location);
  return optionFields()
    .filter((f) => f.secret && f.scheme === scheme)
    .map((f) => f.field);
}

export function addDestinationFlags(command: Command): Command {
  command.option(
    '--destination-config <file>',
    'JSON file of destination options (e.g. {"endpoint": "…", "region": "…"}); flags override it, it overrides the environment',
  );
  for (const flag of optionFlags()) {
    const name = `--${flag.scheme}-${kebab(flag.field)}`;
    const value = flag.kind === 'boolean' ? ' [true|false]' : ' <value>';
    command.option(`${name}${value}`, flag.description);
    const legacy = `--${flag.scheme}-${legacyKebab(flag.field)}`;
    if (legacy !== name) {
      command.addOption(new Option(`${legacy}${value}`).hideHelp());
    }
  }
  return command;
}

function convert(flag: OptionFlag, value: unknown): unknown {
  if (flag.kind === 'boolean') return value === true || value === 'true';
  if (flag.kind === 'number') {
    const n = Number(value);
    if (!Number.isFinite(n)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `--${flag.scheme}-${kebab(flag.field)} must be a number (got "${String(value)}").`,
      );
    }
    return n;
  }
  return value;
}

/**
 * The options for `location` from --destination-config and the kind's own flags
 * (flags win; the back end falls back to the environment for what neither gives).
 */
export async function destinationOptionsFromFlags(
  location: string,
  commandFlags: object,
): Promise<Record<string, unknown>> {
  const flags = commandFlags as Record<string, unknown>;
  const scheme = schemeOf(location);
  let options: Record<string, unknown> = {};
  const configFile = flags.destinationConfig;
  if (typeof configFile === 'string') {
    const text = await readFile(configFile, 'utf8').catch((error: unknown) => {
      throw fromFsError(error, `Cannot read the destination config ${configFile}`, 'read');
    });
    try {
      options = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new AppError('INVALID_ARGUMENT', `${configFile} is not valid JSON.`);
    }
  }
  for (const flag of optionFlags()) {
    const value =
      flags[flag.attribute] ?? flags[camel(`${flag.scheme}-${legacyKebab(flag.field)}`)];
    if (value === undefined) continue;
    if (flag.scheme !== scheme) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `--${flag.scheme}-${kebab(flag.field)} applies to ${flag.scheme}:// destinations, not "${location}".`,
      );
    }
    options[flag.field] = convert(flag, value);
  }
  return options;
}

/** Opens `location` with options from --destination-config and the kind's own flags. */
export async function openDestinationFromFlags(
  location: string,
  commandFlags: object,
): Promise<StorageBackend> {
  return openDestination(location, await destinationOptionsFromFlags(location, commandFlags));
}

/** `--from` and what goes with it, for commands that read one backup. */
export function addBackupLocationFlags(command: Command): Command {
  command.option(
    '--from <destination>',
    'where the backup is (not needed for an archive file path)',
  );
  return addDestinationFlags(command);
}

/** The backup named by `ref` (an id, "latest", or an archive file) and the --from flags. */
export async function resolveBackupFromFlags(
  ref: string,
  flags: { from?: string | undefined },
  options: ResolveOptions = {},
): Promise<ResolvedBackup> {
  return resolveBackup(
    ref,
    flags.from ? await openDestinationFromFlags(flags.from, flags) : undefined,
    options,
  );
}
