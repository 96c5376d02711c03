// The storage-source bench's bare side: every object of a bucket downloaded with
// @google-cloud/storage alone (file.createReadStream() into a SHA-256), one after another
// as our source reads them, against the Storage emulator with its admin token.
// Usage: node bench/gcs-download-child.mjs <emulator host:port> <bucket>
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Storage } from '@google-cloud/storage';
import { OAuth2Client } from 'google-auth-library';

const [host, bucketName] = process.argv.slice(2);
const auth = new OAuth2Client();
auth.setCredentials({ access_token: 'owner', expiry_date: Date.now() + 86_400_000 });
const storage = new Storage({
  apiEndpoint: `http://${host}`,
  projectId: 'demo-firebackup',
  useAuthWithCustomEndpoint: true,
  authClient: auth,
});
const [files] = await storage.bucket(bucketName).getFiles();
let bytes = 0;
for (const file of files) {
  const hash = createHash('sha256');
  await pipeline(file.createReadStream({ validation: false }), async (source) => {
    for await (const chunk of source) {
      bytes += chunk.length;
      hash.update(chunk);
    }
  });
}
console.log(JSON.stringify({ objects: files.length, bytes }));
