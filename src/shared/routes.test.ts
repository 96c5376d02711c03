import { describe, expect, it } from 'vitest';
import { appRoute, parseAppRoute } from './routes.js';

describe('app routes (what a notification click opens)', () => {
  it('builds a route with its parameters encoded', () => {
    expect(appRoute('history', { run: 'run/1' })).toBe('/history?run=run%2F1');
    expect(appRoute('keys', { destination: 'dst_1' })).toBe('/keys?destination=dst_1');
    expect(appRoute('keys')).toBe('/keys');
    expect(appRoute('backups', { destination: 'dst 1', backup: 'bkp_2&x' })).toBe(
      '/backups?destination=dst+1&backup=bkp_2%26x',
    );
    // An absent parameter is left out rather than sent as "undefined".
    expect(appRoute('keys', { destination: undefined })).toBe('/keys');
  });

  it('reads a route back from the URL fragment, as built', () => {
    for (const route of [
      appRoute('history', { run: 'run/1' }),
      appRoute('backups', { destination: 'dst 1', backup: 'bkp_2&x' }),
    ]) {
      const parsed = parseAppRoute(`#${route}`);
      expect(appRoute(parsed!.screen, parsed!.params)).toBe(route);
    }
    expect(parseAppRoute('#/history?run=run%2F1')).toEqual({
      screen: 'history',
      params: { run: 'run/1' },
    });
    expect(parseAppRoute('/keys')).toEqual({ screen: 'keys', params: {} });
  });

  it('has no route for an empty or malformed fragment', () => {
    expect(parseAppRoute('')).toBeUndefined();
    expect(parseAppRoute('#')).toBeUndefined();
    expect(parseAppRoute('#/')).toBeUndefined();
    expect(parseAppRoute('#screen')).toBeUndefined(); // the skip link's in-page anchor
    expect(parseAppRoute('#/Hist ory')).toBeUndefined();
  });
});
