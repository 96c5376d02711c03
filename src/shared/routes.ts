/**
 * Routes into the app's screens, carried in the URL fragment (`#/history?run=<id>`):
 * the desktop main process builds them (a notification's click opens one) and the
 * renderer reads them, so both sides use this one format. A screen is a lower-case id
 * ("history", "first-run"); the renderer checks it names one of its screens.
 */
export type RouteParams = Record<string, string | undefined>;

export interface AppRoute {
  screen: string;
  params: Record<string, string>;
}

const SCREEN = /^[a-z][a-z-]*$/;

/** `/screen?name=value…`, absent parameters left out. */
export function appRoute(screen: string, params: RouteParams = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) query.set(name, value);
  }
  const text = query.toString();
  return `/${screen}${text ? `?${text}` : ''}`;
}

/** The route in a fragment (`#/keys?destination=d1`, with or without '#'), or undefined. */
export function parseAppRoute(fragment: string): AppRoute | undefined {
  const route = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (!route.startsWith('/')) return undefined; // "#screen" is the skip link's anchor
  const [path = '', query = ''] = route.slice(1).split('?', 2);
  if (!SCREEN.test(path)) return undefined;
  return { screen: path, params: Object.fromEntries(new URLSearchParams(query)) };
}
