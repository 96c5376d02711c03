import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRAY_STATES, trayIconFile } from '../../src/main/tray-model.js';

/** Width and height from a PNG's IHDR chunk (and a check that it is a PNG at all). */
async function pngSize(file: string): Promise<[number, number]> {
  const bytes = await readFile(file);
  expect(bytes.subarray(0, 8).toString('hex'), file).toBe('89504e470d0a1a0a');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

describe('resources/', () => {
  it('has the app icon at 512 px (electron-builder makes the .icns/.ico from it)', async () => {
    expect(await pngSize(path.resolve('resources', 'icon.png'))).toEqual([512, 512]);
  });

  it('has a tray icon for every state the tray model can show, light and dark', async () => {
    for (const state of TRAY_STATES)
      for (const theme of ['light', 'dark'] as const) {
        const file = path.resolve('resources', 'tray', trayIconFile(state, theme));
        expect(await pngSize(file), file).toEqual([32, 32]);
      }
  });
});
