/**
 * Served by `firebackup ui` while the renderer has not been built: says so plainly instead
 * of a blank page or a 404. No inline script or style, so the strict CSP holds here too.
 */
export const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>FireBackup</title>
  </head>
  <body>
    <main>
      <h1>FireBackup</h1>
      <p>
        The FireBackup web mode is running, but the app's screens have not been built in this
        installation yet, so there is nothing to show here.
      </p>
      <p>
        Build them (<code>npm run build</code> in the FireBackup folder) and reload this page.
        The command line works meanwhile: run <code>firebackup --help</code>.
      </p>
    </main>
  </body>
</html>
`;
