// ABOUTME: The `builtin:admin` pack (packs-mcp.md §5.4): list connected agents, page an agent's ledger with usage,
// ABOUTME: and send a message to another agent through the same turn pipeline as every ingress, awaiting its end.
import type { AgentInfo } from "../../agent/agent-connection.js";
import type { AgentEvent } from "../../agent/agent-events.js";
import { isTerminal } from "../../agent/agent-events.js";
import type { SendInput, SendResult } from "../../conversation/conversation-service.js";
import { GatewayError, isGatewayError } from "../../lib/gateway-error.js";
import { decodeCursor } from "../../store/cursor.js";
import type { LedgerRepository } from "../../store/ledger-repository.js";
import type { UsageRepository } from "../../store/usage-repository.js";
import { optionalInteger, optionalString } from "../tool-input.js";
import type { BuiltinPack, BuiltinTool } from "../tool-registry.js";
import { ToolError } from "../tool-error.js";
import { builtinTool, described, int, obj, str } from "./tool-schema.js";

/** What the admin tools need of the domain: the agent list, the turn pipeline, the ledger and usage. */
export interface AdminPackOptions {
  agents: { list(): AgentInfo[]; get(agentId: string): AgentInfo | undefined };
  conversations: { send(input: SendInput): Promise<SendResult>; clientGone(requestId: string, reason?: string): void };
  ledger: Pick<LedgerRepository, "listConversation">;
  usage: Pick<UsageRepository, "stats">;
  /**
   * Operations' send checks (ops.md §4.5), absent in a bare domain: maintenance after check 3 and budgets after
   * check 4; each throws a refusal whose message is the tool error's text.
   */
  admission?: {
    maintenance(): void;
    budget(input: { principalId: string | null; agentId: string; actor: string }): Promise<void>;
  };
}

const def = (name: string, description: string, schema: object) => builtinTool("admin", name, description, schema);

const byId = (a: AgentInfo, b: AgentInfo) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0);

/** Builds the three `builtin:admin` tools. */
export function createAdminPack(options: AdminPackOptions): BuiltinPack {
  const { agents, conversations, ledger, usage, admission } = options;
  const tools: BuiltinTool[] = [
    {
      definition: def("admin_list_agents", "List connected agents", obj({})),
      handler: async () => {
        const list = [...agents.list()].sort(byId).map((a) => ({
          backend: a.backend,
          capabilities: [...a.capabilities],
          id: a.agentId,
          instance_id: a.instanceId,
          name: a.name,
          principal_id: a.principalId,
          state: a.state,
          working_dir: a.workingDir,
          workspaces: [...a.workspaces],
        }));
        return { agents: list, count: list.length };
      },
      ignoresInput: true,
    },
    {
      definition: def(
        "admin_agent_messages",
        "Read all messages for an agent in chronological order with token usage stats. Supports cursor-based pagination.",
        obj(
          {
            agent_id: described(str, "The agent to inspect"),
            limit: described(int, "Events per page (default 50, max 500)"),
            cursor: described(str, "Pagination cursor from previous response"),
          },
          ["agent_id"],
        ),
      ),
      handler: async (_caller, input) => {
        const agentId = optionalString(input, "agent_id");
        const limit = optionalInteger(input, "limit");
        const cursor = optionalString(input, "cursor");
        if (!agentId) throw new ToolError("agent_id is required");
        let afterSeq: number | undefined;
        if (cursor) {
          afterSeq = decodeCursor(cursor);
          if (afterSeq === undefined) throw new ToolError("querying events: invalid cursor");
        }
        const page = await ledger.listConversation({ conversationKey: agentId, afterSeq, limit });
        const stats = await usage.stats({ agentId });
        const events = page.events.map((e) => ({
          author: e.author,
          direction: e.direction,
          id: e.eventId,
          ...(e.text === null ? {} : { text: e.text }),
          ...(e.threadId === null ? {} : { thread_id: e.threadId }),
          timestamp: e.timestamp,
          type: e.type,
        }));
        return {
          agent_id: agentId,
          count: events.length,
          events,
          has_more: page.hasMore,
          ...(page.hasMore && page.nextCursor !== undefined ? { next_cursor: page.nextCursor } : {}),
          usage: {
            request_count: stats.requestCount,
            total_cache_read: stats.totalCacheRead,
            total_cache_write: stats.totalCacheWrite,
            total_input: stats.totalInput,
            total_output: stats.totalOutput,
            total_thinking: stats.totalThinking,
            total_tokens: stats.totalTokens,
          },
        };
      },
    },
    {
      definition: def("admin_send_message", "Send message to another agent", obj({ agent_id: str, content: str }, ["agent_id", "content"])),
      handler: async (caller, input, signal) => {
        const target = optionalString(input, "agent_id");
        const content = optionalString(input, "content");
        if (!target) throw new ToolError("agent_id is required");
        if (!content) throw new ToolError("content is required");
        if (target === caller.agentId) throw new ToolError("cannot send message to self");
        admission?.maintenance();
        if (!agents.get(target)) throw new ToolError("sending message: agent not found");
        // The turn counts for the calling agent's principal (store.md §5 inbound actor; ops.md §4.4 budgets).
        const principalId = agents.get(caller.agentId)?.principalId ?? null;
        await admission?.budget({ principalId, agentId: target, actor: principalId ?? caller.agentId });
        return sendAndWait(conversations, caller.agentId, principalId, target, content, signal);
      },
    },
  ];
  return { id: "builtin:admin", tools };
}

/** One turn to `target` from `admin:<caller>`, waiting for its terminal event; an abort cancels it. */
async function sendAndWait(
  conversations: AdminPackOptions["conversations"],
  caller: string,
  callerPrincipalId: string | null,
  target: string,
  content: string,
  signal: AbortSignal,
): Promise<object> {
  const chunks: string[] = [];
  let settle: (event: AgentEvent) => void = () => {};
  const terminal = new Promise<AgentEvent>((resolve) => (settle = resolve));
  let result: SendResult;
  try {
    result = await conversations.send({
      agentId: target,
      thread: { frontendName: "agent", externalId: `${caller}:${target}` },
      sender: `admin:${caller}`,
      content,
      actorPrincipalId: callerPrincipalId,
      ingress: "tool",
      sink: {
        async deliver(event) {
          if (event.kind === "text") chunks.push(event.text);
          if (isTerminal(event)) settle(event);
        },
      },
    });
  } catch (err) {
    if (isGatewayError(err, "NOT_FOUND")) throw new ToolError("sending message: agent not found", { cause: err });
    // A domain refusal is the caller's to read; anything else is internal and redacted by the router.
    if (err instanceof GatewayError && err.code !== "INTERNAL") throw new ToolError(`sending message: ${err.message}`, { cause: err });
    throw err;
  }
  if (result.status !== "accepted") throw new ToolError("sending message: not accepted");
  const { requestId } = result;
  const aborted = new Promise<never>((_resolve, reject) => {
    const onAbort = () => {
      conversations.clientGone(requestId, "caller_gone");
      reject(new ToolError("request canceled: caller gone"));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    void terminal.then(() => signal.removeEventListener("abort", onAbort));
  });
  const event = await Promise.race([terminal, aborted]);
  if (event.kind === "error") throw new ToolError(`agent error: ${event.error}`);
  if (event.kind === "canceled") throw new ToolError(`request canceled: ${event.reason}`);
  const response = event.kind === "done" && event.fullResponse !== "" ? event.fullResponse : chunks.join("");
  return { agent_id: target, done: true, response, status: "sent" };
}
