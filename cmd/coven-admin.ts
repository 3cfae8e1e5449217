#!/usr/bin/env node
// ABOUTME: Entry point of the `coven-admin` operator CLI.
// ABOUTME: Delegates to cmd/coven-admin/main.ts with the real streams and Ctrl-C, and exits with its code.
import { main } from "./coven-admin/main.js";

process.exitCode = await main(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  onInterrupt(listener) {
    process.on("SIGINT", listener);
    return () => process.off("SIGINT", listener);
  },
});
