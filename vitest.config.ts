import { defineConfig } from 'vitest/config'
import SlowestFirst from './test/support/slowest-first.ts'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/*/**/*.test.ts'],
    // Processes, not threads: better-sqlite3 is a native addon and tests kill/pause servers and sockets; a crash or
    // a leaked handle then stays inside one worker.
    pool: 'forks',
    // One process per worker for all its files, not one per file: each file then no longer loads Prisma's runtime,
    // its query compiler and the clients again (vitest's summary: 77 s of imports in one run before, 12 s after).
    // Every file makes its own databases, Redis prefixes and servers, and restores what it changes of the process
    // (docs/design.md, "Toolchain facts").
    isolate: false,
    // 2 cores. Files may run in parallel: each test makes its own database and uses its own Redis key prefix.
    maxWorkers: 2,
    testTimeout: 30_000,
    // Hooks create databases (PostgreSQL CREATE DATABASE + DDL) and may start servers.
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    globalSetup: ['test/support/global-setup.ts'],
    // The longest files start first, so both workers finish together (test/support/slowest-first.ts).
    sequence: { sequencer: SlowestFirst },
    // The default summary, then the slowest files (test/support/slowest-files.ts).
    reporters: ['default', './test/support/slowest-files.ts'],
  },
})
