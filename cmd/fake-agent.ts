#!/usr/bin/env node
// ABOUTME: Entry point of the `fake-agent` executable (shared/spec/cli.md §4); the logic lives in cmd/fake-agent/.
// ABOUTME: Exits once stdout has drained so a `-events-out -` trace is never cut short.
import { main, processIo } from "./fake-agent/main.js";

const code = await main(process.argv.slice(2), processIo());
process.stdout.write("", () => process.exit(code));
