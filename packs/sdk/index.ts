// ABOUTME: The pack SDK's public surface: define tools, then `runPackMain` (a process) or `createPackRunner` (tests).
// ABOUTME: A pack imports only this and the generated coven code, never gateway source.
export { createPackRunner, runPackMain, type PackDefinition, type PackRunOptions, type PackRunner, type PackTool } from "./run-pack.js";
export { packConnectionFrom, type PackConnection } from "./pack-config.js";
