// @ts-check
import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Bare names of Node's built-in modules ('fs', 'path', …); `node:*` is matched by pattern. */
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

/**
 * A no-restricted-imports option banning Node built-ins (and `extra` modules).
 * @param {string[]} extra
 */
function noNodeBuiltins(extra) {
  const message =
    'The renderer runs in a page and the preload in a sandbox: no Node built-ins, and no electron in the renderer (use the contract through window.firebackup).';
  return {
    paths: [...extra, ...nodeBuiltins].map((name) => ({ name, message })),
    patterns: [{ group: ['node:*'], message }],
  };
}

/**
 * The import boundaries of docs/architecture (design/architecture.md):
 * shared → nothing; engine → shared; cli/server → engine, shared (never electron);
 * preload → shared + electron; renderer → shared only; main → engine, shared, electron.
 * test/electron/import-rules.test.ts feeds each rule a violating import.
 */
const zones = [
  {
    target: './src/shared',
    from: [
      './src/engine',
      './src/cli',
      './src/server',
      './src/main',
      './src/preload',
      './src/renderer',
    ],
    message: 'src/shared is pure: it imports nothing from other layers.',
  },
  {
    target: './src/engine',
    from: ['./src/cli', './src/server', './src/main', './src/preload', './src/renderer'],
    message: 'The engine imports only src/shared.',
  },
  {
    target: './src/cli',
    from: ['./src/main', './src/preload', './src/renderer'],
    message: 'The CLI is an adapter over engine + shared.',
  },
  {
    // `firebackup server` starts the organisation server through its one entry point.
    target: './src/cli',
    from: './src/server',
    except: ['./start.ts'],
    message: 'The CLI reaches the server only through src/server/start.ts.',
  },
  {
    target: './src/server',
    from: ['./src/cli', './src/main', './src/preload', './src/renderer'],
    message: 'The server is an adapter over engine + shared.',
  },
  {
    target: './src/preload',
    from: ['./src/engine', './src/cli', './src/server', './src/main', './src/renderer'],
    message: 'Preload sees only the contract in src/shared.',
  },
  {
    target: './src/renderer',
    from: ['./src/engine', './src/cli', './src/server', './src/main', './src/preload'],
    message: 'The renderer talks to the engine only through the contract.',
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Sources import './x.js' that is x.ts on disk (NodeNext): without this alias the
      // boundary rule cannot resolve relative imports and silently passes them.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.tsx', '.js'], '.mjs': ['.mts', '.mjs'] },
        }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Electron may be imported only by the Electron adapters (src/main, src/preload).
    files: ['src/**'],
    ignores: ['src/main/**', 'src/preload/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'Only src/main and src/preload may import electron.' },
          ],
        },
      ],
    },
  },
  {
    // The preload runs sandboxed (only `electron` can be required) and the renderer runs
    // in a page: no Node built-ins in either, and no electron in the renderer.
    files: ['src/preload/**'],
    rules: { 'no-restricted-imports': ['error', noNodeBuiltins([])] },
  },
  {
    files: ['src/renderer/**'],
    rules: { 'no-restricted-imports': ['error', noNodeBuiltins(['electron'])] },
  },
  {
    // shared is runtime-neutral: no Node built-ins either.
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'electron'],
              message: 'src/shared must stay free of Node and Electron.',
            },
          ],
        },
      ],
    },
  },
);
