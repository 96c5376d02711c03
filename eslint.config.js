// @ts-check
import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Bare names of Node's built-in modules ('fs', 'path', …); `node:*` is matched by pattern. */
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

/** A no-restricted-imports option banning Node built-ins (for the sandboxed preload). */
function noNodeBuiltins() {
  const message = 'The preload runs sandboxed: it can require only electron, no Node built-ins.';
  return {
    paths: nodeBuiltins.map((name) => ({ name, message })),
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
    // CommonJS preloads (node --require) for child processes of the bench and tests.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
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
      // Sources import each other as './x.js' (NodeNext); the files are .ts/.tsx. Without
      // this alias the resolver finds nothing and the boundary rule below checks nothing.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
          extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
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
    // The preload runs sandboxed: only `electron` can be required, no Node built-ins.
    files: ['src/preload/**'],
    rules: { 'no-restricted-imports': ['error', noNodeBuiltins()] },
  },
  {
    // The renderer runs in a browser window: browser globals, and no Node or Electron at
    // all (it reaches the engine only through the contract's Transport).
    files: ['src/renderer/**'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        history: 'readonly',
        navigator: 'readonly',
        sessionStorage: 'readonly',
        HTMLElement: 'readonly',
        HTMLHeadingElement: 'readonly',
        HTMLInputElement: 'readonly',
        Blob: 'readonly',
        File: 'readonly',
        FileReader: 'readonly',
        URLSearchParams: 'readonly',
        matchMedia: 'readonly',
        requestAnimationFrame: 'readonly',
      },
    },
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'The renderer has no Node: use the contract.' },
        { name: 'Buffer', message: 'The renderer has no Node: use Uint8Array.' },
        { name: 'setImmediate', message: 'The renderer has no Node: use setTimeout.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'electron', 'fs', 'path', 'os', 'crypto', 'child_process'],
              message: 'The renderer imports only src/shared and browser libraries.',
            },
            {
              group: ['better-sqlite3', '@google-cloud/*', '@aws-sdk/*', 'firebase-admin', 'conf'],
              message: 'Engine libraries stay in the engine: call the contract instead.',
            },
          ],
        },
      ],
    },
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
