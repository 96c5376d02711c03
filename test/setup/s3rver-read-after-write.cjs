/**
 * Preloaded into the s3rver child (`node --require …`): makes its PutObject answer only
 * after the object's bytes are in its file.
 *
 * s3rver 3.7.1's FilesystemStore.putObject resolves when its hashing transform has seen
 * the body, not when the file write stream has finished, and writes the metadata and
 * answers 200 meanwhile. A HEAD or GET right after the PUT can then find the file empty:
 * seen in CI under load as "expected 515 bytes, found 0" from our read-back check of a
 * manifest. Real S3 is strongly read-after-write consistent, so the test server must be
 * too, or our verification reports damage that S3 would never show.
 */
'use strict';
const crypto = require('crypto');
const path = require('path');
const { Transform } = require('stream');
const { pipeline } = require('stream/promises');
const fs = require('fs');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const md5 = crypto.createHash('md5');
  let size = 0;
  if (Buffer.isBuffer(object.content)) {
    await fs.promises.writeFile(objectPath, object.content);
    md5.update(object.content);
    size = object.content.length;
  } else {
    const hashing = new Transform({
      transform(chunk, encoding, callback) {
        md5.update(chunk, encoding);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    // Resolves once the write stream has flushed and closed the file.
    await pipeline(object.content, hashing, fs.createWriteStream(objectPath));
  }
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};
