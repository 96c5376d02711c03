// @ts-check
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The import boundaries of docs/architecture (design/architecture.md):
 * shared → nothing; engine → shared; cli/server → engine, shared (never electron);
 * preload → shared + electron; renderer → shared only; main → engine, shared, electron.
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
    // Electron may be imported only by the Electron adapters.
    files: ['src/shared/**', 'src/engine/**', 'src/cli/**', 'src/server/**', 'src/renderer/**'],
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
