/** The version written into archives and shown by `--version`. Keep in step with package.json. */
export const APP_VERSION = '0.1.0';
