import { describe, expect, it } from 'vitest';
import { isFirstRun, nextStep, stepComplete, type FirstRunProgress } from './steps.js';
import { toProjectAdd, ProjectFormSchema, EMPTY_PROJECT_FORM } from '../projects/form.js';
import { envNames, destinationFormSchema } from '../destinations/form.js';

const none: FirstRunProgress = {
  keyId: null,
  kitSaved: false,
  projectId: null,
  destinationId: null,
  backupStatus: null,
  verifyStatus: null,
};

describe('the first-run guide', () => {
  it('will not leave the key step before the recovery kit is saved', () => {
    expect(stepComplete('key', { ...none, keyId: 'k1' })).toBe(false);
    expect(stepComplete('key', { ...none, keyId: 'k1', kitSaved: true })).toBe(true);
  });

  it('moves on from a backup or verify only once it succeeded', () => {
    expect(stepComplete('backup', { ...none, backupStatus: 'running' })).toBe(false);
    expect(stepComplete('backup', { ...none, backupStatus: 'failed' })).toBe(false);
    expect(stepComplete('backup', { ...none, backupStatus: 'succeeded' })).toBe(true);
    expect(stepComplete('verify', { ...none, verifyStatus: 'succeeded' })).toBe(true);
    expect(nextStep('key')).toBe('project');
    expect(nextStep('done')).toBe('done');
  });

  it('opens only on an empty catalog', () => {
    expect(isFirstRun(0, 0)).toBe(true);
    expect(isFirstRun(1, 0)).toBe(false);
    expect(isFirstRun(0, 1)).toBe(false);
  });
});

describe('the set-up forms', () => {
  it('project: only the chosen connection is required and sent', () => {
    const emulator = ProjectFormSchema.parse({
      ...EMPTY_PROJECT_FORM,
      name: ' Shop ',
      firebaseProjectId: 'shop-1',
      serviceAccountJson: 'ignored',
    });
    expect(toProjectAdd(emulator)).toEqual({
      name: 'Shop',
      firebaseProjectId: 'shop-1',
      databaseId: '(default)',
      connection: { kind: 'emulator', host: '127.0.0.1:8080' },
    });
    const missingKey = ProjectFormSchema.safeParse({
      ...EMPTY_PROJECT_FORM,
      name: 'Shop',
      firebaseProjectId: 'shop-1',
      connectionKind: 'service-account',
    });
    expect(missingKey.success).toBe(false);
    expect(
      ProjectFormSchema.safeParse({ ...EMPTY_PROJECT_FORM, name: 'x', firebaseProjectId: 'Bad Id' })
        .success,
    ).toBe(false);
  });

  it('destination: the location must fit the kind; secrets are named by their variables', () => {
    const s3 = destinationFormSchema({ kind: 's3', label: 'S3', example: 's3://b/p', fields: [] });
    expect(s3.safeParse({ name: 'a', url: 'gs://b', options: {} }).success).toBe(false);
    expect(s3.safeParse({ name: 'a', url: 's3://b/p', options: {} }).success).toBe(true);
    const local = destinationFormSchema({ kind: 'local', label: 'L', example: '/x', fields: [] });
    expect(local.safeParse({ name: 'a', url: 's3://b', options: {} }).success).toBe(false);
    expect(envNames('Secret access key. Env: AWS_SECRET_ACCESS_KEY.')).toEqual([
      'AWS_SECRET_ACCESS_KEY',
    ]);
  });
});
