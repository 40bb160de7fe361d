// ESLint (typescript-eslint), run by `npm run lint` and the typecheck layer of `npm test`.
// Its first job is the architecture: src/core is pure (no vscode, no Node I/O, no infra, no
// wall clock or randomness of its own) and reaches the world only through core/ports.ts.
import tseslint from 'typescript-eslint';

const GIT_RUNNER = 'run git through src/infra/git/run.ts (runGit, runGitSync, gitText)';
const PURE = 'src/core is pure: reach the world through core/ports.ts';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**', 'media/**', '.vscode-test/**'] },
  {
    files: ['src/**/*.ts'],
    extends: [tseslint.configs.base],
    rules: {
      'no-debugger': 'error',
      'no-dupe-keys': 'error',
      'no-self-compare': 'error',
      'no-unreachable': 'error',
      'no-var': 'error',
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-control-regex': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // One place runs git: src/infra/git/run.ts (argv only, Orchard's identity, typed GitError).
    // Not checked: the fake agent (it runs git as an agent CLI would).
    files: ['src/**/*.ts'],
    ignores: ['src/infra/git/run.ts', 'src/infra/fakeAgent/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'simple-git', message: GIT_RUNNER }] }],
      'no-restricted-syntax': ['error', { selector: "CallExpression[arguments.0.value='git']", message: GIT_RUNNER }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode', 'execa', 'simple-git', 'lowdb', 'lowdb/node'].map((name) => ({ name, message: PURE })),
          patterns: [
            { group: ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'net', 'http', 'https', 'worker_threads'], message: PURE },
            { group: ['**/infra/**', '**/vscode/**', '**/cli/**', '**/webview/**'], message: PURE },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'use the clock port: ports.clock.now()' },
        { object: 'Math', property: 'random', message: 'use core/random.ts (seeded)' },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'require', 'setTimeout', 'setInterval', 'fetch'].map((name) => ({ name, message: `${PURE} (timers: ports.clock.setTimer)` })),
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'new Date() reads the wall clock: use ports.clock.now()' },
      ],
    },
  },
  {
    // The test harness's plain JavaScript (the e2e steps, the host launchers): nothing checks
    // its types, so at least a misspelt or shadowed name fails the lint, not a run. Functions
    // handed to page.evaluate() run in the browser, hence its few globals.
    files: ['test/**/*.mjs', '*.mjs'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          ...['process', 'console', 'Buffer', 'URL', 'fetch', 'AbortController', 'AbortSignal', 'structuredClone', 'globalThis', 'performance', 'TextDecoder'],
          ...['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'queueMicrotask'],
          ...['document', 'window', 'requestAnimationFrame', 'MutationObserver', 'getComputedStyle', 'CSS'],
        ].map((name) => [name, 'readonly']),
      ),
    },
    rules: { 'no-undef': 'error', 'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }], 'no-shadow': 'error' },
  },
);
