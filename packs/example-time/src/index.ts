// ABOUTME: The example pack `example-time` (packs-mcp.md §7): `get_time` in any IANA zone and `echo` with a delay.
// ABOUTME: Copy this folder to write a pack: define tools, call runPackMain, build with `npm run build`.
import { runPackMain, type PackDefinition } from "../../sdk/index.js";
import { timeIn } from "./time-in.js";

export const examplePack: PackDefinition = {
  packId: "example-time",
  version: "1.0.0",
  tools: [
    {
      name: "get_time",
      description: "Current time in a timezone (IANA name, default UTC)",
      inputSchema: { type: "object", properties: { timezone: { type: "string" } } },
      handler: (input) => timeIn(typeof input.timezone === "string" && input.timezone !== "" ? input.timezone : "UTC", new Date()),
    },
    {
      name: "echo",
      description: "Echo text back, optionally after a delay",
      inputSchema: {
        type: "object",
        properties: { text: { type: "string" }, delay_ms: { type: "integer" } },
        required: ["text"],
      },
      timeoutSeconds: 5,
      handler: async (input) => {
        const text = typeof input.text === "string" ? input.text : "";
        if (text === "") throw new Error("text is required");
        const delay = typeof input.delay_ms === "number" && input.delay_ms > 0 ? input.delay_ms : 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        return { text };
      },
    },
  ],
};

runPackMain(examplePack);
