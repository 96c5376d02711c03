import { describe, expect, it } from 'vitest';
import {
  optionLabel,
  fieldsFromJsonSchema,
  formSchemaFromFields,
  optionsFromForm,
} from './destination-forms.js';

const json = {
  type: 'object',
  properties: {
    endpoint: { type: 'string', format: 'uri', description: 'Endpoint.' },
    accessKeyId: { type: 'string', description: 'Key id; give it with secretAccessKey. Env: Y.' },
    secretAccessKey: { type: 'string', minLength: 1, description: 'Secret. The key. Env: X.' },
    partSizeMiB: { type: 'integer', minimum: 5, maximum: 512, description: 'Part size.' },
    forcePathStyle: { type: 'boolean', description: 'Path style.' },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['endpoint'],
};

describe('destination forms from a back end’s options schema', () => {
  it('lists editable fields, marks secrets, keeps limits, skips what a form cannot edit', () => {
    const fields = fieldsFromJsonSchema(json);
    expect(fields.map((f) => f.name)).toEqual([
      'endpoint',
      'accessKeyId',
      'secretAccessKey',
      'partSizeMiB',
      'forcePathStyle',
    ]);
    expect(fields[2]).toMatchObject({ secret: true, description: 'The key. Env: X.' });
    // Paired with a secret, so it comes from the environment with it.
    expect(fields[1]).toMatchObject({ name: 'accessKeyId', secret: true });
    expect(fields[0]).toMatchObject({ required: true, format: 'uri' });
  });

  it('validates form text as the back end would, and sends only what was set', () => {
    const fields = fieldsFromJsonSchema(json);
    const schema = formSchemaFromFields(fields);
    expect(schema.safeParse({ endpoint: 'not a url' }).success).toBe(false);
    expect(schema.safeParse({ endpoint: 'http://x:9000', partSizeMiB: '4' }).success).toBe(false);
    expect(schema.safeParse({ endpoint: 'http://x:9000', partSizeMiB: '5.5' }).success).toBe(false);
    expect(schema.safeParse({ endpoint: '' }).success).toBe(false); // required
    expect(
      optionsFromForm(fields, {
        endpoint: 'http://x:9000',
        partSizeMiB: '16',
        forcePathStyle: false,
        secretAccessKey: 'never sent',
      }),
    ).toEqual({ endpoint: 'http://x:9000', partSizeMiB: 16 });
  });
});

describe('optionLabel', () => {
  it('turns an option name into the words a person reads, initials and units kept', () => {
    expect(
      [
        'region',
        'accessKeyId',
        'secretAccessKey',
        'forcePathStyle',
        'credentialsJson',
        'chunkSizeMiB',
        'projectId',
      ].map(optionLabel),
    ).toEqual([
      'Region',
      'Access key ID',
      'Secret access key',
      'Force path style',
      'Credentials JSON',
      'Chunk size (MiB)',
      'Project ID',
    ]);
  });
});
