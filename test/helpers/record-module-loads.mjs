// `node --import <this file>`: appends the URL of every module the process loads to the
// file named by RECORD_MODULE_LOADS, one a line (tests of what the CLI loads at start-up).
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  appendFileSync(${JSON.stringify(process.env.RECORD_MODULE_LOADS)}, url + '\\n');
  return nextLoad(url, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
