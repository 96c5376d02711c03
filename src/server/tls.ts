import { readFileSync } from 'node:fs';
import type { SecureContextOptions, TlsOptions } from 'node:tls';

/**
 * TLS terminated by the server itself (TLS_CERT_FILE + TLS_KEY_FILE), for deployments
 * without the guide's nginx in front: TLS 1.2 minimum and the guide's cipher list for
 * TLS 1.2 (forward-secret ECDHE with AES-GCM or ChaCha20 only), TLS 1.3 with its standard
 * AEAD suites, and the client's preference order (the guide's `ssl_prefer_server_ciphers off`).
 */
export const GUIDE_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

export const TLS13_SUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
] as const;

export type HttpsOptions = TlsOptions & SecureContextOptions;

/** The https options, or the problems (one line each, naming the variable). */
export function serverTls(
  settings: { TLS_CERT_FILE?: string | undefined; TLS_KEY_FILE?: string | undefined },
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): { https?: HttpsOptions; problems: string[] } {
  const { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } = settings;
  if (certFile === undefined && keyFile === undefined) return { problems: [] };
  if (certFile === undefined || keyFile === undefined)
    return {
      problems: [
        'TLS_CERT_FILE and TLS_KEY_FILE go together (the certificate chain and its key); set both, or neither to serve plain HTTP behind a TLS proxy',
      ],
    };
  const problems: string[] = [];
  const load = (name: string, file: string): string => {
    try {
      return read(file);
    } catch (error) {
      problems.push(`${name} (${file}) cannot be read: ${(error as Error).message}`);
      return '';
    }
  };
  const cert = load('TLS_CERT_FILE', certFile);
  const key = load('TLS_KEY_FILE', keyFile);
  if (problems.length > 0) return { problems };
  return {
    problems,
    https: {
      cert,
      key,
      minVersion: 'TLSv1.2',
      ciphers: [...TLS13_SUITES, ...GUIDE_TLS12_CIPHERS].join(':'),
      honorCipherOrder: false,
    },
  };
}
