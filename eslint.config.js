import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import noImportCycle from './scripts/eslint/no-import-cycle.js';
import { sizeExceptions } from './scripts/eslint/size-exceptions.js';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'labgrade-report/',
      'bench/out/',
      'test/fixtures/',
      '.scratch/',
      'test-artifacts/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only the engine implementation may talk to dockerode (architecture: one door to the engine).
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'dockerode', message: 'Only harness/engine/docker-engine.ts imports dockerode.' }],
        },
      ],
    },
  },
  // The harness is the bottom layer: it knows nothing of graders, reports or the CLI.
  {
    files: ['harness/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'dockerode', message: 'Only harness/engine/docker-engine.ts imports dockerode.' }],
          patterns: [
            {
              group: ['**/graders/**', '**/reports/**', '**/cli/**'],
              message: 'harness/ is below graders/, reports/ and cli/: move what both need into harness/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['harness/engine/docker-engine.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/graders/**', '**/reports/**', '**/cli/**'],
              message: 'harness/ is the bottom layer.',
            },
          ],
        },
      ],
    },
  },
  // What ships (cli, graders, harness, reports) runs on Node 18.19, Ubuntu 24.04's own nodejs
  // (package.json engines; test/integration/node18.test.ts runs it under Debian's nodejs 18).
  {
    files: ['cli/**/*.ts', 'graders/**/*.ts', 'harness/**/*.ts', 'reports/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...[
          [
            'AbortSignal',
            'any',
            'Node 20.3: combine signals by hand (one AbortController listening to each)',
          ],
          ['Array', 'fromAsync', 'Node 22: collect with for await'],
          ['Object', 'groupBy', 'Node 21: group with a Map by hand'],
          ['Map', 'groupBy', 'Node 21: group with a Map by hand'],
          ['Promise', 'withResolvers', 'Node 22: new Promise((resolve, reject) => …)'],
        ].map(([object, property, why]) => ({
          object,
          property,
          message: `${object}.${property} is ${why}.`,
        })),
        ...['toSorted', 'toReversed', 'toSpliced', 'isWellFormed', 'toWellFormed'].map((property) => ({
          property,
          message: `${property} is Node 20: copy, then sort/reverse/splice.`,
        })),
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.type='MetaProperty'][property.name=/^(dirname|filename)$/]",
          message:
            'import.meta.dirname/filename are Node 20.11: path.dirname(fileURLToPath(import.meta.url)).',
        },
        {
          selector: 'ImportAttribute',
          message:
            'Import attributes (`with { type: … }`) are Node 18.20+; read JSON with readFile + JSON.parse.',
        },
        { selector: 'Literal[regex.flags=/v/]', message: 'The RegExp v flag is Node 20.' },
      ],
    },
  },
  // Size: what ships is read in pieces a person can hold. Lines counted without blanks and comments.
  // The few files allowed more are listed, each with its reason, in scripts/eslint/size-exceptions.js.
  {
    files: ['cli/**/*.ts', 'graders/**/*.ts', 'harness/**/*.ts', 'reports/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 500, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': [
        'error',
        { max: 100, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
    },
  },
  ...sizeExceptions.map(({ file, rules }) => ({
    files: [file],
    rules: Object.fromEntries(rules.map((r) => [r, 'off'])),
  })),
  // No module reaches itself through its imports (type-only imports count too).
  {
    files: ['**/*.ts'],
    plugins: { labgrade: { rules: { 'no-import-cycle': noImportCycle } } },
    rules: { 'labgrade/no-import-cycle': 'error' },
  },
  // chai assertions are property reads (`expect(x).to.be.NaN`).
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
);
