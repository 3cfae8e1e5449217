#!/usr/bin/env node
// ABOUTME: Entry point of the `coven-admin` operator CLI.
// ABOUTME: The commands arrive with the CLI issue; until then it says so plainly and exits non-zero.
process.stderr.write("coven-admin: not yet available in this build (the operator CLI arrives with a later release)\n");
process.exitCode = 1;
