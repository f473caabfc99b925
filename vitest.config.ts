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
    // Two files at once even on two cores: most of a command-line test is waiting (for a child
    // process, a fake server, a timeout or a cron tick), so one file's wait is the other's CPU.
    maxWorkers: 2,
  },
});
