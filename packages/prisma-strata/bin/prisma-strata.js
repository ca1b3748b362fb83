#!/usr/bin/env node
// The command line (src/cli.ts, built into dist/): a file of its own so that installing the workspace, before any
// build, can link it.
import '../dist/cli.js'
