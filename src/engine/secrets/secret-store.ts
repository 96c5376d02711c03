import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { writeJsonDurably } from '../util/durable-write.js';
import { fromFsError } from '../util/fs-errors.js';

/**
 * Secrets the app keeps for the person: master keys, imported service-account JSON, S3
 * secret keys. Never in the catalog or the settings. The engine sees this interface; the
 * CLI uses FileSecretStore (a file only its owner can read, as key files are today) and
 * the desktop app a safeStorage-encrypted one (src/main/secrets.ts) over the same file
 * format, with each value encrypted by the OS keychain.
 */
export type SecretKind =
  | 'master-key'
  | 'service-account'
  | 's3-secret-key'
  /** A gs:// destination's service-account key (src/engine/secrets/destination-secrets.ts). */
  | 'gcs-service-account'
  | 'team-session';

export const secretName = (kind: SecretKind, id: string): string => `${kind}:${id}`;

/** How well secrets are protected here, in words a settings screen can show as they are. */
export interface SecretProtection {
  /** 'file': owner-only file; 'os': the OS keychain (Keychain, DPAPI, libsecret, kwallet). */
  backend: 'file' | 'os' | 'basic_text' | 'unavailable';
  /** True when values are encrypted with a key the OS keeps for this user only. */
  encrypted: boolean;
  /** True while `set` refuses: the person must agree to weaker storage first. */
  needsConsent: boolean;
  message: string;
}

export interface SecretStore {
  protection(): SecretProtection;
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<boolean>;
  names(): Promise<string[]>;
}

/** How a value is stored: as is (owner-only file) or encrypted (safeStorage). */
export interface SecretCodec {
  encode(plain: string): string;
  decode(stored: string): string;
}
const PLAIN: SecretCodec = { encode: (s) => s, decode: (s) => s };

const FORMAT = 'firebackup-secrets/1';
const FileSchema = z.object({
  format: z.literal(FORMAT),
  encoding: z.enum(['plain', 'safeStorage']),
  secrets: z.record(z.string()),
});
type SecretsFile = z.infer<typeof FileSchema>;

export interface FileSecretStoreOptions {
  codec?: SecretCodec;
  /** Recorded in the file, so a file of encrypted values is never read as plain and back. */
  encoding?: SecretsFile['encoding'];
  protection?: () => SecretProtection;
  platform?: NodeJS.Platform;
}

/**
 * Secrets in one JSON file (mode 600 in a 700 folder), written atomically (temporary,
 * fsync, rename), refused when others can read it: whoever can, holds every secret.
 */
export class FileSecretStore implements SecretStore {
  private readonly codec: SecretCodec;
  private readonly encoding: SecretsFile['encoding'];
  private readonly platform: NodeJS.Platform;

  constructor(
    readonly file: string,
    private readonly o: FileSecretStoreOptions = {},
  ) {
    this.codec = o.codec ?? PLAIN;
    this.encoding = o.encoding ?? 'plain';
    this.platform = o.platform ?? process.platform;
  }

  protection(): SecretProtection {
    return (
      this.o.protection?.() ?? {
        backend: 'file',
        encrypted: false,
        needsConsent: false,
        message: `Secrets are kept in ${this.file}, readable only by your user account.`,
      }
    );
  }

  async get(name: string): Promise<string | undefined> {
    const stored = (await this.read()).secrets[name];
    return stored === undefined ? undefined : this.codec.decode(stored);
  }

  async set(name: string, value: string): Promise<void> {
    const p = this.protection();
    if (p.needsConsent) throw new AppError('PERMISSION_DENIED', p.message);
    const data = await this.read();
    data.secrets[name] = this.codec.encode(value);
    await this.write(data);
  }

  async delete(name: string): Promise<boolean> {
    const data = await this.read();
    if (!(name in data.secrets)) return false;
    delete data.secrets[name];
    await this.write(data);
    return true;
  }

  async names(): Promise<string[]> {
    return Object.keys((await this.read()).secrets).sort();
  }

  private async read(): Promise<SecretsFile> {
    let info;
    try {
      info = await stat(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { format: FORMAT, encoding: this.encoding, secrets: {} };
      throw fromFsError(error, `Cannot read the secrets file ${this.file}`, 'read');
    }
    if (this.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new AppError(
        'PERMISSION_DENIED',
        `The secrets file ${this.file} can be read by other users (mode ${(info.mode & 0o777).toString(8)}). Make it private with \`chmod 600 ${this.file}\`, and consider the keys and credentials in it exposed: rotate them.`,
      );
    }
    let parsed;
    try {
      parsed = FileSchema.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `The secrets file ${this.file} is damaged (not a ${FORMAT} file). Restore it from a backup copy, or move it aside and import your keys and credentials again.`,
      );
    }
    if (parsed.data.encoding !== this.encoding) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `The secrets file ${this.file} holds ${parsed.data.encoding === 'safeStorage' ? 'values encrypted by the desktop app' : 'plain values'}; open it with ${parsed.data.encoding === 'safeStorage' ? 'the desktop app' : 'the CLI'}, or import the secrets again.`,
      );
    }
    return parsed.data;
  }

  private async write(data: SecretsFile): Promise<void> {
    await writeJsonDurably(this.file, data, `the secrets file ${this.file}`);
  }
}
