import { z } from 'zod';
import {
  EmulatorHostSchema,
  FirebaseProjectIdSchema,
  type ProjectAdd,
} from '../../../shared/api/methods/projects.js';

/**
 * The add-project form's values: flat, as the inputs give them, checked with the same
 * schemas the contract uses (the dispatcher checks again). Only the chosen connection's
 * field is required.
 */
export const ProjectFormSchema = z
  .object({
    name: z.string().trim().min(1, 'give the project a name').max(100),
    firebaseProjectId: FirebaseProjectIdSchema,
    databaseId: z.string().trim().min(1, 'the database id, usually (default)').max(100),
    connectionKind: z.enum(['emulator', 'service-account', 'default-credentials']),
    emulatorHost: z.string().trim(),
    serviceAccountJson: z.string(),
  })
  .superRefine((v, ctx) => {
    if (v.connectionKind === 'emulator') {
      const host = EmulatorHostSchema.safeParse(v.emulatorHost);
      if (!host.success)
        ctx.addIssue({
          code: 'custom',
          path: ['emulatorHost'],
          message: 'host:port, e.g. 127.0.0.1:8080',
        });
    }
    if (v.connectionKind === 'service-account' && v.serviceAccountJson.trim() === '')
      ctx.addIssue({
        code: 'custom',
        path: ['serviceAccountJson'],
        message: 'choose the service-account key file (or paste its content)',
      });
  });
export type ProjectFormValues = z.infer<typeof ProjectFormSchema>;

export const EMPTY_PROJECT_FORM: ProjectFormValues = {
  name: '',
  firebaseProjectId: '',
  databaseId: '(default)',
  connectionKind: 'emulator',
  emulatorHost: '127.0.0.1:8080',
  serviceAccountJson: '',
};

/** The contract's input for the form's values (only the chosen connection's data goes). */
export function toProjectAdd(v: ProjectFormValues): ProjectAdd {
  const connection: ProjectAdd['connection'] =
    v.connectionKind === 'emulator'
      ? { kind: 'emulator', host: v.emulatorHost.trim() }
      : v.connectionKind === 'service-account'
        ? { kind: 'service-account', json: v.serviceAccountJson }
        : { kind: 'default-credentials' };
  return {
    name: v.name.trim(),
    firebaseProjectId: v.firebaseProjectId.trim(),
    databaseId: v.databaseId.trim(),
    connection,
  };
}
