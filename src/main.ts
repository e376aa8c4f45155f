#!/usr/bin/env node
// The `keyward` command.
import { runCli } from './cli/cli.js';

process.exitCode = await runCli(process.argv.slice(2));
