#!/usr/bin/env node
// The `q` command: a stable file for package managers to link, which loads the built CLI.
import '../dist/cli/main.js'
