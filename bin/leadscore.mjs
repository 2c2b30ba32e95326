#!/usr/bin/env node
// `npx leadscore serve`: the collector. See README "Deploy the collector".
import { main } from '../dist/collector/cli.js';

process.exitCode = await main(process.argv.slice(2));
