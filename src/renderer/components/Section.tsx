import { useId, type ReactNode } from 'react';

/** A titled part of a screen: a `section` named by its `h2`. */
export function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="stack">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** A named list of cards, or a line saying it is empty (once loading is over). */
export function CardList<T>({
  label,
  items,
  empty,
  loading = false,
  children,
}: {
  label: string;
  items: readonly T[];
  empty: string;
  loading?: boolean;
  children: (item: T) => ReactNode;
}) {
  if (items.length === 0) return loading ? null : <p className="muted">{empty}</p>;
  return (
    <ul className="stack" aria-label={label}>
      {items.map(children)}
    </ul>
  );
}
