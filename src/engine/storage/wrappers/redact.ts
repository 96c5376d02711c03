/** Query parameters that carry credentials in signed or hand-written URLs. */
const SECRET_PARAM =
  /^(x-amz-(signature|credential|security-token)|x-goog-(signature|credential)|signature|sig|token|access_?token|key|secret|password|credentials?)$/i;

/**
 * A destination URL safe to show in logs, errors and --json output: user info
 * (`s3://KEY:SECRET@bucket`) and credential-bearing query parameters are replaced with
 * "***". Plain paths pass through unchanged; a string that does not parse as a URL keeps
 * only its scheme and host-like part, since we cannot tell where a secret would be.
 */
export function redactUrl(location: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/]*@)?([^/?#]*)/i.exec(location);
    return m ? `${m[1]}${m[2]}/***` : '***';
  }
  const hadUser = url.username !== '' || url.password !== '';
  url.username = '';
  url.password = '';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, '***');
  }
  const text = url.toString();
  // WHATWG URL keeps non-special schemes (s3:, gs:) as written; re-insert a visible marker.
  return hadUser ? text.replace('://', '://***@') : text;
}

/**
 * A destination URL as it may be shared: credentials before "@" are the member's own and
 * are dropped (the server refuses them). Unlike redactUrl, no "***" marker: the
 * result is a URL another member can set up as it is.
 */
export function withoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url; // a plain folder path
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
