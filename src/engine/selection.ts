/**
 * Which documents a selection names. Entries are root collection ids ("users") or
 * slash-separated path prefixes ("users/alice/orders", "users/alice"); an entry matches
 * a document whose path is the entry or lies beneath it, whole segments only.
 */
export interface Selection {
  include?: readonly string[];
  exclude?: readonly string[];
}

export function normaliseEntry(entry: string): string {
  return entry.trim().replace(/^\/+|\/+$/g, '');
}

function under(path: string, entry: string): boolean {
  return path === entry || path.startsWith(`${entry}/`);
}

export function matchesSelection(path: string, selection: Selection): boolean {
  const include = (selection.include ?? []).map(normaliseEntry).filter(Boolean);
  const exclude = (selection.exclude ?? []).map(normaliseEntry).filter(Boolean);
  if (include.length && !include.some((e) => under(path, e))) return false;
  return !exclude.some((e) => under(path, e));
}
