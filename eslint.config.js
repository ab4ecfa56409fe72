import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.renkei/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['packages/cli/**', 'infra/**', 'test/**', '**/test/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Every Kafka client comes from kafkaClient (packages/bus), which reads the security
    // settings: a client built by hand would speak plaintext to a broker that refuses it.
    ignores: ['packages/bus/src/kafka.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Kafka']",
          message: 'Build Kafka clients with kafkaClient (@renkei/bus) or testKafka (@renkei/testing).',
        },
      ],
    },
  },
);
