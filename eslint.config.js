// Lint rules for shoal. The sans-IO block enforces DESIGN.md's rule that the protocol core
// (wire, protocol, cluster, catalog) never reaches for clocks, timers, sockets, files, the
// process or global randomness: those come in as inputs, so the simulator can drive the same code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const sansIoCore = ['src/wire/**/*.ts', 'src/protocol/**/*.ts', 'src/cluster/**/*.ts', 'src/catalog/**/*.ts'];

const forbiddenModules = [
  'dgram', 'net', 'tls', 'http', 'https', 'http2', 'dns', 'fs', 'fs/promises', 'child_process',
  'timers', 'timers/promises', 'cluster', 'worker_threads', 'os', 'process', 'perf_hooks', 'readline',
];
const why = 'sans-IO core (DESIGN.md): take time, randomness and I/O as inputs instead';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', performance: 'readonly', URL: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: sansIoCore,
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...forbiddenModules.flatMap((name) => [
            { name, message: why },
            { name: `node:${name}`, message: why },
          ]),
          ...['crypto', 'node:crypto'].map((name) => ({
            name,
            importNames: ['randomBytes', 'randomFillSync', 'randomFill', 'randomInt', 'randomUUID', 'getRandomValues', 'webcrypto'],
            message: `${why}: inject a random source`,
          })),
        ],
      }],
      'no-restricted-globals': ['error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate',
          'queueMicrotask', 'process', 'performance', 'Date', 'fetch', 'require'].map((name) => ({ name, message: why })),
      ],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: `${why}: use the injected seeded generator` },
        { object: 'crypto', property: 'randomBytes', message: why },
        { object: 'crypto', property: 'getRandomValues', message: why },
        { object: 'crypto', property: 'randomUUID', message: why },
        { object: 'globalThis', property: 'crypto', message: why },
      ],
    },
  },
);
