/** Stands in for a screen that is not built yet, saying so rather than showing nothing. */
export function ComingSoon({ what }: { what: string }) {
  return (
    <p className="muted">
      {what} is not in this build yet. The command line does it meanwhile: run{' '}
      <code>firebackup --help</code>.
    </p>
  );
}
