// ABOUTME: The command guard (ops.md §3): default and configured rules, first match wins over the compact tool input.
// ABOUTME: Pure evaluation; where each verdict applies (deny, hold, warn) is decided by the caller at its source.
import type { GuardAction, GuardConfig, GuardRuleConfig } from "../config/types.js";
import { globMatcher } from "./glob.js";

const SHELL_TOOLS = ["Bash", "bash", "shell", "shell_exec", "run_command", "execute_command"];

/** The default rules of ops.md §3.6, in order (each `deny` with the default message). */
export const DEFAULT_GUARD_RULES: readonly GuardRuleConfig[] = [
  ["rm-root", String.raw`\brm\s+(?:-[A-Za-z]+\s+|--[a-z-]+\s+){0,8}(?:/|/\*|~/?|\$HOME/?)(?=$|[\s;&|"'\\])`, ""],
  [
    "force-push-main",
    String.raw`\bgit\s+push\b(?=[^"\\;&|]{0,512}?(?:\s--force(?:-with-lease)?(?=$|[\s"\\=])|\s-f(?=$|[\s"\\])|\s\+(?:main|master)(?=$|[\s"\\:])))(?=[^"\\;&|]{0,512}?[\s:+](?:main|master)(?=$|[\s"\\]))`,
    "",
  ],
  ["drop-database", String.raw`\b(?:drop\s+(?:table|database|schema)|truncate\s+table)\b`, "i"],
  ["mkfs", String.raw`\bmkfs(?:\.[a-z0-9]+)?\s`, ""],
  ["dd-device", String.raw`\bdd\s[^"\\]{0,512}?\bof=/dev/(?!null\b|zero\b|stdout\b|stderr\b)`, ""],
  ["chmod-777-root", String.raw`\bchmod\s+(?:-[A-Za-z]*R[A-Za-z]*\s+|--recursive\s+)777\s+/(?=$|[\s;&|"'\\])`, ""],
  ["pipe-to-shell", String.raw`\b(?:curl|wget)\s[^"\\|]{0,512}\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b`, ""],
].map(([name, match, flags]) => ({
  name: name as string,
  tools: SHELL_TOOLS,
  match: match as string,
  flags: flags as string,
  action: "deny" as GuardAction,
  message: `blocked by rule ${name as string}`,
}));

export interface GuardVerdict {
  action: GuardAction;
  rule: string;
  message: string;
}

interface CompiledRule {
  rule: GuardRuleConfig;
  tools: (name: string) => boolean;
  re: RegExp;
}

export interface CommandGuard {
  /** False: nothing is evaluated (tool sources skip the guard). */
  readonly isEnabled: boolean;
  /** The first matching rule's verdict for a call, or undefined when allowed. Ignores `isEnabled` (the dry run). */
  evaluate(toolName: string, inputJson: string): GuardVerdict | undefined;
  /** As `evaluate` over an already parsed input value (the dry run's `input`). */
  evaluateValue(toolName: string, input: unknown): GuardVerdict | undefined;
}

/** The effective rule list: defaults (a configured rule of the same name replaces one in place), then the others. */
export function effectiveRules(config: Pick<GuardConfig, "defaultRules" | "rules">): GuardRuleConfig[] {
  const configured = new Map(config.rules.map((rule) => [rule.name, rule]));
  const used = new Set<string>();
  const out: GuardRuleConfig[] = [];
  if (config.defaultRules) {
    for (const rule of DEFAULT_GUARD_RULES) {
      const replacement = configured.get(rule.name);
      if (replacement) used.add(rule.name);
      out.push(replacement ?? rule);
    }
  }
  for (const rule of config.rules) if (!used.has(rule.name)) out.push(rule);
  return out;
}

/** The subject of ops.md §3.2: compact JSON of the input (blank = `{}`, unparsable = raw), cut to `max` chars. */
export function guardSubject(inputJson: string, maxChars: number): string {
  let subject: string;
  if (inputJson.trim() === "") subject = "{}";
  else {
    try {
      subject = JSON.stringify(JSON.parse(inputJson));
    } catch {
      // Input that does not parse is matched as the raw text it is (ops.md §3.2).
      subject = inputJson;
    }
  }
  return subject.length > maxChars ? subject.slice(0, maxChars) : subject;
}

/** Compiles the rules once (config validation already proved every expression compiles). */
export function createCommandGuard(config: GuardConfig): CommandGuard {
  const rules: CompiledRule[] = effectiveRules(config).map((rule) => ({
    rule,
    tools: globMatcher(rule.tools),
    re: new RegExp(rule.match, rule.flags),
  }));
  const run = (toolName: string, subject: string): GuardVerdict | undefined => {
    for (const { rule, tools, re } of rules) {
      if (tools(toolName) && re.test(subject)) return { action: rule.action, rule: rule.name, message: rule.message };
    }
    return undefined;
  };
  return {
    isEnabled: config.enabled,
    evaluate: (toolName, inputJson) => run(toolName, guardSubject(inputJson, config.maxInputChars)),
    evaluateValue(toolName, input) {
      const subject = JSON.stringify(input === undefined ? {} : input);
      return run(toolName, subject.length > config.maxInputChars ? subject.slice(0, config.maxInputChars) : subject);
    },
  };
}
