// ABOUTME: The JSONL trace of every AgentStream message the fake agent sends or receives (`-events-out`).
// ABOUTME: Lines are `{"t":<unix ms>,"dir":"in"|"out","agent_id":…,"msg":<proto JSON>}`; tests assert on them.
import { closeSync, openSync, writeSync } from "node:fs";
import { toJson, type JsonValue } from "@bufbuild/protobuf";
import * as pb from "../../src/gen/coven_pb.js";

/** One traced message; `msg` is the canonical proto3 JSON of the AgentMessage/ServerMessage. */
export interface TraceEntry {
  t: number;
  dir: "in" | "out";
  agent_id: string;
  msg: JsonValue;
}

/** A line sink plus how to release it. */
export interface TraceSink {
  write(line: string): void;
  close(): void;
}

/**
 * Opens the trace destination: `-` is stdout, any other string a file (truncated), a function is used as is.
 * Lines are written synchronously so a reader sees them as soon as the message is traced.
 */
export function openTraceSink(target: string | ((line: string) => void)): TraceSink {
  if (typeof target === "function") return { write: target, close: () => {} };
  if (target === "-") return { write: (line) => process.stdout.write(line + "\n"), close: () => {} };
  const fd = openSync(target, "w");
  let open = true;
  return {
    write: (line) => {
      if (open) writeSync(fd, line + "\n");
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Records messages for one agent into an in-memory list and/or a sink. */
export class Tracer {
  readonly entries: TraceEntry[] = [];
  readonly #agentId: string;
  readonly #sink: ((line: string) => void) | undefined;
  readonly #keep: boolean;

  constructor(agentId: string, sink: ((line: string) => void) | undefined, keep: boolean) {
    this.#agentId = agentId;
    this.#sink = sink;
    this.#keep = keep;
  }

  /** Traces a frame sent to the gateway. */
  out(msg: pb.AgentMessage): void {
    if (this.#keep || this.#sink) this.#record("out", toJson(pb.AgentMessageSchema, msg));
  }

  /** Traces a frame received from the gateway. */
  in(msg: pb.ServerMessage): void {
    if (this.#keep || this.#sink) this.#record("in", toJson(pb.ServerMessageSchema, msg));
  }

  #record(dir: "in" | "out", msg: JsonValue): void {
    const entry: TraceEntry = { t: Date.now(), dir, agent_id: this.#agentId, msg };
    if (this.#keep) this.entries.push(entry);
    this.#sink?.(JSON.stringify(entry));
  }
}
