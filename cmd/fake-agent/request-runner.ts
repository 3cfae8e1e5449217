// ABOUTME: Plays the steps of one request (a script rule, the default, or the echo reply) as MessageResponse frames.
// ABOUTME: Each request runs as its own task; stopping it (cancel, stream end) silences it at once.
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import * as pb from "../../src/gen/coven_pb.js";
import type { Step, ToolStateName } from "./script.js";
import { renderDeep, splitIntoChunks, type TemplateContext } from "./template.js";

/** What a running request may do on its stream. */
export interface RequestIo {
  /** Queues a frame on the stream's serialized writer. */
  send(msg: pb.AgentMessage): void;
  waitApproval(id: string, timeoutMs: number, signal: AbortSignal): Promise<pb.ToolApprovalResponse | undefined>;
  waitPackResult(requestId: string, timeoutMs: number, signal: AbortSignal): Promise<pb.PackToolResult | undefined>;
  /** Ends the whole stream abruptly (the `disconnect` step), after the frames queued before it left. */
  disconnect(): Promise<void>;
  uuid(): string;
}

export interface RequestRun {
  steps: Step[];
  ctx: TemplateContext;
  /** False for echo mode: the echoed content is sent verbatim, never treated as a template. */
  templated: boolean;
  signal: AbortSignal;
  io: RequestIo;
}

type ResponseEvent = pb.MessageResponse["event"];
type EventCase = Exclude<ResponseEvent["case"], undefined>;

const TOOL_STATES: Record<ToolStateName, pb.ToolState> = {
  pending: pb.ToolState.PENDING,
  awaiting_approval: pb.ToolState.AWAITING_APPROVAL,
  running: pb.ToolState.RUNNING,
  completed: pb.ToolState.COMPLETED,
  failed: pb.ToolState.FAILED,
  denied: pb.ToolState.DENIED,
  timeout: pb.ToolState.TIMEOUT,
  cancelled: pb.ToolState.CANCELLED,
};

/** Runs one request to its end. Resolves (never rejects) when it finishes, is stopped, or hangs by design. */
export async function runRequest(run: RequestRun): Promise<void> {
  try {
    await new StepPlayer(run).play();
  } catch (err) {
    if (!run.signal.aborted) throw err;
  }
}

class StepPlayer {
  readonly #run: RequestRun;
  #fullText = "";

  constructor(run: RequestRun) {
    this.#run = run;
  }

  async play(): Promise<void> {
    const { steps, ctx, templated, signal } = this.#run;
    for (const raw of steps) {
      const step = templated ? renderDeep(raw, ctx) : raw;
      if (step.delayMs > 0) await sleep(step.delayMs, undefined, { signal });
      if ((await this.#step(step)) === "stop") return;
    }
    this.#respond({ case: "done", value: create(pb.DoneSchema, { fullResponse: this.#fullText }) });
  }

  #respond(event: ResponseEvent & { case: EventCase }): void {
    this.#run.signal.throwIfAborted();
    const response = create(pb.MessageResponseSchema, { requestId: this.#run.ctx.requestId, event });
    this.#run.io.send(create(pb.AgentMessageSchema, { payload: { case: "response", value: response } }));
  }

  async #sendText(text: string, chunks: number, chunkDelayMs: number): Promise<void> {
    const pieces = splitIntoChunks(text, chunks);
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0 && chunkDelayMs > 0) await sleep(chunkDelayMs, undefined, { signal: this.#run.signal });
      this.#respond({ case: "text", value: pieces[i] as string });
      this.#fullText += pieces[i];
    }
  }

  async #step(step: Step): Promise<"next" | "stop"> {
    const { io, signal } = this.#run;
    switch (step.kind) {
      case "thinking":
        this.#respond({ case: "thinking", value: step.text });
        return "next";
      case "text":
        await this.#sendText(step.text, step.chunks, step.chunkDelayMs);
        return "next";
      case "tool_use":
        this.#respond({ case: "toolUse", value: create(pb.ToolUseSchema, { id: step.id, name: step.name, inputJson: JSON.stringify(step.input) }) });
        return "next";
      case "tool_state":
        this.#respond({
          case: "toolState",
          value: create(pb.ToolStateUpdateSchema, { id: step.id, state: TOOL_STATES[step.state], ...(step.detail === undefined ? {} : { detail: step.detail }) }),
        });
        return "next";
      case "tool_result":
        this.#respond({ case: "toolResult", value: create(pb.ToolResultSchema, { id: step.id, output: step.output, isError: step.isError }) });
        return "next";
      case "approval": {
        const input = JSON.stringify(step.input);
        this.#respond({ case: "toolApprovalRequest", value: create(pb.ToolApprovalRequestSchema, { id: step.id, name: step.name, inputJson: input }) });
        const answer = await io.waitApproval(step.id, step.timeoutMs, signal);
        if (answer === undefined) {
          this.#respond({ case: "error", value: "approval timed out" });
          return "stop";
        }
        if (!answer.approved && step.onDeny === "error") {
          this.#respond({ case: "error", value: `tool ${step.name} denied` });
          return "stop";
        }
        return "next";
      }
      case "pack_tool":
        return this.#packTool(step);
      case "usage":
        this.#respond({
          case: "usage",
          value: create(pb.TokenUsageSchema, {
            inputTokens: step.inputTokens,
            outputTokens: step.outputTokens,
            cacheReadTokens: step.cacheReadTokens,
            cacheWriteTokens: step.cacheWriteTokens,
            thinkingTokens: step.thinkingTokens,
          }),
        });
        return "next";
      case "file":
        this.#respond({
          case: "file",
          value: create(pb.FileDataSchema, { filename: step.filename, mimeType: step.mimeType, data: Buffer.from(step.dataBase64, "base64") }),
        });
        return "next";
      case "session_init":
        this.#respond({ case: "sessionInit", value: create(pb.SessionInitSchema, { sessionId: step.sessionId }) });
        return "next";
      case "session_orphaned":
        this.#respond({ case: "sessionOrphaned", value: create(pb.SessionOrphanedSchema, { reason: step.reason }) });
        return "next";
      case "sleep":
        await sleep(step.ms, undefined, { signal });
        return "next";
      case "heartbeat":
        signal.throwIfAborted();
        io.send(create(pb.AgentMessageSchema, { payload: { case: "heartbeat", value: { timestampMs: BigInt(Date.now()) } } }));
        return "next";
      case "done":
        this.#respond({ case: "done", value: create(pb.DoneSchema, { fullResponse: step.text ?? this.#fullText }) });
        return "stop";
      case "error":
        this.#respond({ case: "error", value: step.message });
        return "stop";
      case "cancelled":
        this.#respond({ case: "cancelled", value: create(pb.CancelledSchema, { reason: step.reason }) });
        return "stop";
      case "disconnect":
        signal.throwIfAborted();
        await io.disconnect();
        return "stop";
      case "hang":
        return "stop";
    }
  }

  async #packTool(step: Extract<Step, { kind: "pack_tool" }>): Promise<"next" | "stop"> {
    const { io, signal, ctx } = this.#run;
    const requestId = step.requestId ?? io.uuid();
    signal.throwIfAborted();
    io.send(
      create(pb.AgentMessageSchema, {
        payload: { case: "executePackTool", value: { requestId, toolName: step.name, inputJson: JSON.stringify(step.input) } },
      }),
    );
    const result = await io.waitPackResult(requestId, step.timeoutMs, signal);
    if (result === undefined) {
      this.#respond({ case: "error", value: "pack tool timed out" });
      return "stop";
    }
    const isError = result.result.case === "error";
    const output = result.result.value ?? "";
    ctx.lastResult = output;
    if (step.emit === "tool_result") {
      this.#respond({ case: "toolResult", value: create(pb.ToolResultSchema, { id: requestId, output, isError }) });
    } else if (step.emit === "text") {
      await this.#sendText(output, 1, 0);
    }
    return "next";
  }
}
