#!/usr/bin/env node
// The generator process Prisma starts for `generator strata { provider = "prisma-strata-generator" }`.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import generatorHelper from '@prisma/generator-helper'
import { buildSchema, renderModule } from './index.js'

// A CommonJS package: its named exports are not visible to an ES module import.
generatorHelper.generatorHandler({
  onManifest: () => ({
    prettyName: 'Strata cache schema',
    defaultOutput: '../generated/strata',
    requiresGenerators: [],
  }),
  async onGenerate(options) {
    const output = options.generator.output?.value
    if (!output) throw new Error('prisma-strata-generator: set `output` in the generator block.')
    const text = await readFile(options.schemaPath, 'utf8').catch(() => options.datamodel)
    const schema = buildSchema(options.dmmf.datamodel, text, options.schemaPath)
    await mkdir(output, { recursive: true })
    for (const [file, content] of Object.entries(renderModule(schema))) await writeFile(join(output, file), content)
  },
})
