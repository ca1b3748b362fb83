import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/prometheus.ts', 'src/otel.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: false,
  target: 'node20',
  external: ['@prisma/client', 'ioredis', 'prom-client', '@opentelemetry/api'],
})
