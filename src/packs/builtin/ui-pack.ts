// ABOUTME: The `builtin:ui` pack (packs-mcp.md §5.5): `ask_user`, which raises a question in the question router and
// ABOUTME: waits for a valid answer, the deadline, or withdrawal; no recipients fails at once with the reference text.
import type { AskInput, AskOutcome } from "../../conversation/question-router.js";
import { optionalBoolean, optionalInteger, optionalObjectArray, optionalString } from "../tool-input.js";
import type { BuiltinPack } from "../tool-registry.js";
import { ToolError } from "../tool-error.js";
import { bool, builtinTool, described, int, obj, str } from "./tool-schema.js";

export interface UiPackOptions {
  questions: { ask(input: AskInput): Promise<AskOutcome> };
}

const DESCRIPTION =
  "Ask the user a question and wait for their response. Use this when you need user input, clarification, or to present choices. Returns the user's selected option(s) or indicates timeout if they don't respond.";

const SCHEMA = obj(
  {
    question: described(str, "The question to ask the user"),
    options: described(
      {
        type: "array",
        items: obj(
          {
            label: described(str, "Display text for this option"),
            description: described(str, "Optional explanation of this option"),
          },
          ["label"],
        ),
      },
      "Multiple choice options (2-4 recommended)",
    ),
    multi_select: described(bool, "Allow selecting multiple options (default: false)"),
    header: described(str, "Short label/category for the question (optional)"),
    timeout_seconds: described(int, "How long to wait for response (default: 60, max: 300)"),
  },
  ["question", "options"],
);

const wrongOptions = () => new ToolError('invalid input: field "options" must be of type array');

/** Builds `builtin:ui` over the gateway's one question router. */
export function createUiPack(options: UiPackOptions): BuiltinPack {
  return {
    id: "builtin:ui",
    tools: [
      {
        definition: builtinTool("ui", "ask_user", DESCRIPTION, SCHEMA, 300),
        handler: async (caller, input, signal) => {
          const question = optionalString(input, "question") ?? "";
          const rawOptions = optionalObjectArray(input, "options") ?? [];
          const multiSelect = optionalBoolean(input, "multi_select") ?? false;
          const header = optionalString(input, "header");
          const timeoutSeconds = optionalInteger(input, "timeout_seconds");
          const parsed = rawOptions.map((o) => {
            const label = o.label ?? "";
            const description = o.description ?? undefined;
            if (typeof label !== "string" || (description !== undefined && typeof description !== "string")) throw wrongOptions();
            return description === undefined || description === "" ? { label } : { label, description };
          });
          // The router's checks and texts (question, options, labels, duplicates) are the §5.5 ones.
          const outcome = await options.questions.ask({
            agentId: caller.agentId,
            question,
            options: parsed,
            multiSelect,
            header,
            timeoutSeconds,
            signal,
          });
          if (!outcome.answered) return { answered: false, reason: outcome.reason };
          return outcome.customText === undefined || outcome.customText === ""
            ? { answered: true, selected: [...outcome.selected] }
            : { answered: true, custom_text: outcome.customText, selected: [...outcome.selected] };
        },
      },
    ],
  };
}
