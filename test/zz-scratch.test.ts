import { it } from 'vitest'
import { generate } from './support/differential/generator.ts'
import { writeCall } from './support/differential/runner.ts'
import { setupCase } from './support/matrix.ts'

it('scratch', async () => {
  const s = await setupCase({ provider: 'sqlite', tiers: 'local' })
  const steps = generate(1, { provider: 'sqlite', steps: 30 })
  for (const [i, step] of steps.entries()) {
    if (step.kind !== 'write') continue
    try { await writeCall(s.prisma, step.write) } catch (e) { if (i === 2 || i === 9 || i === 29) console.log(i, JSON.stringify(step.write), (e as Error).message) }
  }
  await s.close()
}, 60000)
