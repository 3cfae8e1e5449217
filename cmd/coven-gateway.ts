#!/usr/bin/env node
// ABOUTME: Entry point of the `coven-gateway` executable.
// ABOUTME: Delegates to cmd/coven-gateway/main.ts and exits with its code.
import { main } from "./coven-gateway/main.js";

process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
