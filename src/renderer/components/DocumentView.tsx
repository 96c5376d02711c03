import type { FirestoreDocumentRecord } from '../../shared/firestore.js';
import { valueRows } from '../../shared/typed-values.js';

/**
 * A document's fields with their exact types and values (the archive encoding: int64 as
 * digits, doubles with NaN/±Infinity/-0 visible, timestamps with nine fractional digits,
 * bytes as hex, references as paths), one row per field, nested ones indented.
 */
export function DocumentView({
  document,
  onOpenReference,
}: {
  document: FirestoreDocumentRecord;
  onOpenReference?: (path: string) => void;
}) {
  const rows = valueRows(document.fields);
  return (
    <section aria-label={`Document ${document.path}`} className="stack">
      <dl className="facts">
        <dt>Path</dt>
        <dd>
          <code>{document.path}</code>
        </dd>
        <dt>Created</dt>
        <dd>
          <code>{document.createTime}</code>
        </dd>
        <dt>Updated</dt>
        <dd>
          <code>{document.updateTime}</code>
        </dd>
      </dl>
      {rows.length === 0 ? (
        <p className="muted">No fields.</p>
      ) : (
        <table className="typed-values">
          <caption className="muted">Fields of {document.path}</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Type</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.path} data-field={row.path} data-type={row.type}>
                <th scope="row" style={{ paddingLeft: `${row.depth * 1.25 + 0.25}rem` }}>
                  {row.label}
                </th>
                <td>{row.type}</td>
                <td>
                  {row.reference && onOpenReference ? (
                    <button
                      type="button"
                      className="link"
                      aria-label={`Open referenced document ${row.reference}`}
                      onClick={() => onOpenReference(row.reference!)}
                    >
                      <code>{row.text}</code>
                    </button>
                  ) : (
                    <code>{row.text}</code>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
