import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../secrets/secret-store.js';
import {
  clearTeamCredentials,
  loadTeamCredentials,
  saveTeamCredentials,
  type TeamCredentials,
} from './credentials.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function store(): Promise<FileSecretStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-team-'));
  dirs.push(dir);
  return new FileSecretStore(path.join(dir, 'secrets.json'));
}

const sample: TeamCredentials = {
  serverUrl: 'https://backup.example.com',
  accessToken: 'eyJ.access',
  refreshToken: 'fbr_refresh-secret',
  accessExpiresAt: 1_800_000_000_000,
  sessionId: 'ses_1',
  user: { id: 'usr_1', email: 'ada@example.com' },
  organizationId: null,
};

describe('team credentials', () => {
  it('round-trips through the secret store and is forgotten on clear', async () => {
    const s = await store();
    expect(await loadTeamCredentials(s)).toBeUndefined();
    await saveTeamCredentials(s, sample);
    expect(await loadTeamCredentials(s)).toEqual(sample);
    expect(await clearTeamCredentials(s)).toBe(true);
    expect(await loadTeamCredentials(s)).toBeUndefined();
    expect(await clearTeamCredentials(s)).toBe(false);
  });

  it('refuses a damaged entry without echoing the tokens in it', async () => {
    const s = await store();
    await s.set('team-session:default', '{"refreshToken":"fbr_leak-me"');
    const error = await loadTeamCredentials(s).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/firebackup logout/);
    expect((error as Error).message).not.toContain('fbr_leak-me');
  });

  it('refuses to save an entry that is not a sign-in', async () => {
    const s = await store();
    await expect(saveTeamCredentials(s, { ...sample, serverUrl: 'not a url' })).rejects.toThrow();
    expect(JSON.parse(await readFile(s.file, 'utf8').catch(() => '{}'))).not.toHaveProperty(
      'secrets.team-session:default',
    );
  });
});
