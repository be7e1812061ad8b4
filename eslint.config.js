import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'labgrade-report/', 'bench/out/', 'test/fixtures/'] },
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
  { files: ['harness/engine/docker-engine.ts'], rules: { 'no-restricted-imports': 'off' } },
  // chai assertions are property reads (`expect(x).to.be.NaN`).
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
);
