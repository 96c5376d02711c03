import { z } from 'zod';
import { method } from '../define.js';

/** How secrets are protected on this machine, as the Settings screen shows it. */
export const SecretProtectionSchema = z.object({
  backend: z.enum(['file', 'os', 'basic_text', 'unavailable']),
  encrypted: z.boolean(),
  needsConsent: z.boolean(),
  message: z.string(),
});

export const secretMethods = {
  'secrets.protection': method({
    description:
      'How keys and credentials are protected here (OS keychain, owner-only file, or a Linux machine without a keyring that needs the person to agree).',
    input: z.object({}).strict(),
    output: SecretProtectionSchema,
    permission: 'projects:manage',
  }),
  'secrets.acceptWeakStorage': method({
    description:
      'The person agrees to store secrets without a system keyring (Linux basic_text); returns the new state.',
    input: z.object({}).strict(),
    output: SecretProtectionSchema,
    permission: 'projects:manage',
  }),
};
