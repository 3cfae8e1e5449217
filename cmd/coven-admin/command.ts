// ABOUTME: The one dispatcher of coven-admin: commands and subcommand groups declared as data (names, aliases, flags),
// ABOUTME: parsed with node:util parseArgs, each with its own `--help` generated from the same declaration.
import { parseArgs } from "node:util";
import type { CliIo } from "../coven-gateway/cli-io.js";
import { failUsage } from "./output.js";

/**
 * The streams coven-admin runs with: the gateway CLI's plus stdin (chat's REPL and prompts) and Ctrl-C delivery.
 * `onInterrupt` registers a listener for SIGINT and returns its removal; tests inject their own.
 */
export type AdminIo = CliIo & {
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  onInterrupt?: (listener: () => void) => () => void;
};

/** One flag of a command; `aliases` are extra long names (e.g. `--fp` for `--pubkey-fp`). */
export interface Flag {
  name: string;
  short?: string;
  aliases?: string[];
  type: "string" | "boolean";
  /** Placeholder shown in help, e.g. `<name>`; string flags only. */
  value?: string;
  help: string;
}

/** What a command body receives: flag values under their canonical names, and the positional words. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** A command that runs (`me`, `agents create`, `chat`). */
export interface Leaf {
  kind: "leaf";
  name: string;
  aliases?: string[];
  /** The synopsis after `coven-admin `, e.g. `agents delete <agent-id>`. */
  synopsis: string;
  summary: string;
  flags?: Flag[];
  /** Accepts positional words (the body checks how many). */
  positionals?: boolean;
  /** Printed as `Error: <usageError>` when the flags do not parse (cli.md quotes these per command). */
  usageError: string;
  run(parsed: Parsed, io: AdminIo): Promise<number>;
}

/** A command with subcommands (`agents list|create|delete`). */
export interface Group {
  kind: "group";
  name: string;
  summary: string;
  subcommands: Leaf[];
  /** The subcommand run when none is given (or the first word is a flag); without it a subcommand is required. */
  defaultSubcommand?: string;
  /** The error for an unknown (or, without a default, missing) subcommand. */
  unknownError(sub: string | undefined): string;
}

export type Command = Leaf | Group;

const HELP_FLAGS = new Set(["-h", "--help"]);

/** True when `-h`/`--help` appears before a `--` terminator. */
function wantsHelp(argv: string[]): boolean {
  for (const arg of argv) {
    if (arg === "--") return false;
    if (HELP_FLAGS.has(arg)) return true;
  }
  return false;
}

function names(c: { name: string; aliases?: string[] }): string {
  return c.aliases?.length ? `${c.name} (${c.aliases.join(", ")})` : c.name;
}

function flagLabel(f: Flag): string {
  const longs = [f.name, ...(f.aliases ?? [])].map((n) => `--${n}`);
  const all = f.short ? [`-${f.short}`, ...longs] : longs;
  return all.join(", ") + (f.type === "string" ? ` ${f.value ?? "<value>"}` : "");
}

/** The help text of one command: synopsis, summary, aliases and flags. */
export function leafHelp(leaf: Leaf): string {
  let out = `Usage: coven-admin ${leaf.synopsis}\n\n${leaf.summary}\n`;
  if (leaf.aliases?.length) out += `\nAliases: ${leaf.aliases.join(", ")}\n`;
  const flags: Flag[] = [...(leaf.flags ?? []), { name: "help", short: "h", type: "boolean", help: "Show this help" }];
  const labels = flags.map(flagLabel);
  const width = Math.max(...labels.map((l) => l.length));
  out += "\nFlags:\n" + flags.map((f, i) => `  ${labels[i]!.padEnd(width)}  ${f.help}\n`).join("");
  return out;
}

/** The help text of a group: its subcommands with aliases and synopses. */
export function groupHelp(group: Group): string {
  const rows = group.subcommands.map((s) => [names(s), s.summary, s.synopsis] as const);
  const width = Math.max(...rows.map((r) => r[0].length));
  let out = `Usage: coven-admin ${group.name} <subcommand> [args]\n\n${group.summary}\n\nSubcommands:\n`;
  out += rows.map(([n, summary]) => `  ${n.padEnd(width)}  ${summary}\n`).join("");
  if (group.defaultSubcommand) out += `\nWithout a subcommand: ${group.name} ${group.defaultSubcommand}.\n`;
  out += `Run 'coven-admin ${group.name} <subcommand> --help' for its flags.\n`;
  return out;
}

function matches(c: { name: string; aliases?: string[] }, word: string): boolean {
  return c.name === word || (c.aliases?.includes(word) ?? false);
}

/** Finds a command or subcommand by name or alias. */
export function findCommand<C extends { name: string; aliases?: string[] }>(list: readonly C[], word: string): C | undefined {
  return list.find((c) => matches(c, word));
}

/** Parses and runs one leaf; `--help` prints its help to stdout and exits 0 without touching the gateway. */
export async function runLeaf(leaf: Leaf, argv: string[], io: AdminIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout.write(leafHelp(leaf));
    return 0;
  }
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const f of leaf.flags ?? []) {
    options[f.name] = f.short ? { type: f.type, short: f.short } : { type: f.type };
    for (const alias of f.aliases ?? []) options[alias] = { type: f.type };
  }
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: boolean }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: leaf.positionals === true });
  } catch {
    return failUsage(io, leaf.usageError);
  }
  const values: Parsed["values"] = {};
  for (const f of leaf.flags ?? []) {
    const given = [f.name, ...(f.aliases ?? [])].map((n) => parsed.values[n]).find((v) => v !== undefined);
    values[f.name] = given as string | boolean | undefined;
  }
  return leaf.run({ values, positionals: parsed.positionals }, io);
}

/** Picks the subcommand of a group (or its default), then runs it as a leaf. */
export async function runGroup(group: Group, argv: string[], io: AdminIo): Promise<number> {
  const first = argv[0];
  const hasSub = first !== undefined && !first.startsWith("-");
  if ((first === "help" || (first !== undefined && HELP_FLAGS.has(first))) && findCommand(group.subcommands, first) === undefined) {
    io.stdout.write(groupHelp(group));
    return 0;
  }
  const subName = hasSub ? first : group.defaultSubcommand;
  const sub = subName === undefined ? undefined : findCommand(group.subcommands, subName);
  if (sub === undefined) return failUsage(io, group.unknownError(hasSub ? first : undefined));
  return runLeaf(sub, hasSub ? argv.slice(1) : argv, io);
}

/** Runs a command of either kind. */
export function runCommand(command: Command, argv: string[], io: AdminIo): Promise<number> {
  return command.kind === "group" ? runGroup(command, argv, io) : runLeaf(command, argv, io);
}

/** The `--json` flag every read command takes. */
export const JSON_FLAG: Flag = { name: "json", type: "boolean", help: "Print exactly one JSON document on stdout (for jq)" };
