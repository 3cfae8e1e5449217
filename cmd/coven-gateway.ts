#!/usr/bin/env node
// ABOUTME: Entry point of the `coven-gateway` executable.
// ABOUTME: Delegates to cmd/coven-gateway/main.ts and exits with its code.
import { main } from "./coven-gateway/main.js";
import { tolerateClosedReader } from "./coven-gateway/cli-io.js";

tolerateClosedReader(process.stdout);
tolerateClosedReader(process.stderr);

process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
