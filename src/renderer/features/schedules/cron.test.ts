import { describe, expect, it } from 'vitest';
import { describeCron, presetOf, timeZones } from './cron.js';

describe('the cron editor helpers', () => {
  it('describes an expression in plain words, 24-hour', () => {
    expect(describeCron('0 2 * * *')).toEqual({ text: 'At 02:00, every day', ok: true });
    expect(describeCron('30 3 * * 1').text).toMatch(/03:30.*Monday/);
  });

  it('says what is wrong instead of describing a bad expression', () => {
    expect(describeCron('every day')).toMatchObject({
      ok: false,
      text: expect.stringMatching(/5 fields/),
    });
    expect(describeCron('99 * * * *').ok).toBe(false);
  });

  it('recognises presets whatever the spacing', () => {
    expect(presetOf(' 0  2 * * * ')).toBe('0 2 * * *');
    expect(presetOf('5 2 * * *')).toBe('');
  });

  it('lists time zones, UTC among them', () => {
    expect(timeZones()).toEqual(expect.arrayContaining(['UTC', 'Europe/Paris']));
  });
});
