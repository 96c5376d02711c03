import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** True when the openssl CLI is here (the TLS tests make their certificates with it). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs openssl quietly (it reports every signature on stderr). */
function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface Pem {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/**
 * A throwaway certificate authority and certificates it signs (EC P-256, so both the
 * ECDSA and, for `rsa: true`, the RSA suites of the guide can be exercised).
 */
export class TestCa {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'fb-ca-'));
  readonly ca: Pem;

  constructor(name = 'FireBackup Test CA') {
    this.ca = this.make('ca', ['-x509', '-days', '2', '-subj', `/CN=${name}`], 'ec');
  }

  /** A certificate for `cn` with subjectAltNames such as ['DNS:localhost', 'IP:127.0.0.1']. */
  issue(file: string, cn: string, altNames: string[] = [], kind: 'ec' | 'rsa' = 'ec'): Pem {
    const csr = path.join(this.dir, `${file}.csr`);
    const key = path.join(this.dir, `${file}.key`);
    const cert = path.join(this.dir, `${file}.pem`);
    this.genKey(key, kind);
    openssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', csr]);
    const ext = path.join(this.dir, `${file}.ext`);
    const extText = altNames.length > 0 ? `subjectAltName=${altNames.join(',')}\n` : '';
    execFileSync('sh', [
      '-c',
      `printf '%s' "$0" > "$1"`,
      extText || 'basicConstraints=CA:FALSE\n',
      ext,
    ]);
    openssl([
      ...['x509', '-req', '-in', csr, '-CA', this.ca.certFile, '-CAkey', this.ca.keyFile],
      ...['-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert],
    ]);
    return this.pem(cert, key);
  }

  private genKey(file: string, kind: 'ec' | 'rsa'): void {
    openssl(
      kind === 'ec'
        ? ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]
        : ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file],
    );
  }

  private make(file: string, args: string[], kind: 'ec' | 'rsa'): Pem {
    const key = path.join(this.dir, `${file}.key`);
    const cert = path.join(this.dir, `${file}.pem`);
    this.genKey(key, kind);
    openssl(['req', '-new', '-key', key, ...args, '-out', cert]);
    return this.pem(cert, key);
  }

  private pem(certFile: string, keyFile: string): Pem {
    return {
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
      certFile,
      keyFile,
    };
  }
}
