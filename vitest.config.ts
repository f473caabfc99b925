import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Migrates one template database per backend; test databases are copies of it.
    globalSetup: ['test/support/database-templates.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each create their own database; running files in parallel keeps the suite short.
    pool: 'forks',
  },
});
