// ABOUTME: Unit checks of the conversation codec: the exact SendMessage fingerprint of store.md §7, the tool state
// ABOUTME: enum, and which optional proto fields stay unset, seen through the binary wire form.
import { createHash } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import type { ToolStateName } from "../../src/agent/agent-events.js";
import type { StreamMessage, StreamPayload } from "../../src/conversation/event-stream.js";
import * as pb from "../../src/gen/coven_pb.js";
import { clientSendRequestHash, encodeLedgerEvent, encodeStreamMessage } from "../../src/rpc/conversation-codec.js";

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

function roundTrip(payload: StreamPayload): pb.ClientStreamEvent {
  const message: StreamMessage = { kind: "message", conversationKey: "k", timestamp: "2024-01-15T10:30:00.123Z", requestId: undefined, payload };
  return fromBinary(pb.ClientStreamEventSchema, toBinary(pb.ClientStreamEventSchema, encodeStreamMessage(message)));
}

describe("clientSendRequestHash", () => {
  it("hashes the canonical JSON with keys in spec order and each attachment's SHA-256", () => {
    const data = new TextEncoder().encode("file bytes");
    const request = create(pb.ClientSendMessageRequestSchema, {
      conversationKey: "agent-1",
      content: "say \"hi\"",
      attachments: [create(pb.FileAttachmentSchema, { filename: "a.txt", mimeType: "text/plain", data })],
      idempotencyKey: "ignored",
    });
    const canonical = `{"op":"client.send","conversation_key":"agent-1","content":"say \\"hi\\"","attachments":[{"filename":"a.txt","mime_type":"text/plain","sha256":"${sha256(data)}"}]}`;
    expect(clientSendRequestHash(request)).toBe(sha256(canonical));
    expect(clientSendRequestHash({ ...request, attachments: [] })).toBe(
      sha256(`{"op":"client.send","conversation_key":"agent-1","content":"say \\"hi\\"","attachments":[]}`),
    );
  });
});

describe("encodeStreamMessage", () => {
  it("maps every tool state name to its enum value and leaves an empty detail unset", () => {
    const states: Array<[ToolStateName, pb.ToolState]> = [
      ["unknown", pb.ToolState.UNSPECIFIED],
      ["pending", pb.ToolState.PENDING],
      ["awaiting_approval", pb.ToolState.AWAITING_APPROVAL],
      ["running", pb.ToolState.RUNNING],
      ["completed", pb.ToolState.COMPLETED],
      ["failed", pb.ToolState.FAILED],
      ["denied", pb.ToolState.DENIED],
      ["timeout", pb.ToolState.TIMEOUT],
      ["canceled", pb.ToolState.CANCELLED],
    ];
    for (const [state, value] of states) {
      const decoded = roundTrip({ kind: "tool_state", id: "t", state, detail: "" });
      expect(decoded.payload.case).toBe("toolState");
      const update = decoded.payload.value as pb.ToolStateUpdate;
      expect([update.id, update.state, update.detail]).toEqual(["t", value, undefined]);
    }
    expect(roundTrip({ kind: "tool_state", id: "t", state: "running", detail: "d" }).payload.value).toMatchObject({ detail: "d" });
  });

  it("leaves done.full_response unset when empty, and optional question fields unset when absent", () => {
    expect((roundTrip({ kind: "done", fullResponse: "" }).payload.value as pb.StreamDone).fullResponse).toBeUndefined();
    expect(roundTrip({ kind: "done", fullResponse: "x" }).payload.value).toMatchObject({ fullResponse: "x" });
    const question = roundTrip({
      kind: "user_question",
      question: {
        questionId: "q",
        agentId: "a",
        question: "?",
        options: [{ label: "A" }, { label: "B", description: "b" }],
        multiSelect: true,
        header: undefined,
        timeoutSeconds: 60,
        status: "pending",
        createdAt: "2024-01-15T10:30:00.123Z",
        expiresAt: "2024-01-15T10:31:00.123Z",
        answeredAt: null,
        answeredBy: null,
        answer: undefined,
      },
    }).payload.value as pb.UserQuestionRequest;
    expect(question.header).toBeUndefined();
    expect(question.options.map((o) => o.description)).toEqual([undefined, "b"]);
    expect(question).toMatchObject({ agentId: "a", questionId: "q", multiSelect: true, timeoutSeconds: 60 });
  });
});

describe("encodeLedgerEvent", () => {
  it("keeps an empty text set and leaves NULL columns unset", () => {
    const event = encodeLedgerEvent({
      seq: 1,
      eventId: "e",
      conversationKey: "k",
      threadId: null,
      requestId: null,
      direction: "outbound_from_agent",
      author: "system",
      timestamp: "2024-01-15T10:30:00.123Z",
      type: "system",
      text: "",
      rawTransport: null,
      rawPayloadRef: null,
      actorPrincipalId: null,
    });
    const decoded = fromBinary(pb.EventSchema, toBinary(pb.EventSchema, event));
    expect(decoded.text).toBe("");
    expect([decoded.rawTransport, decoded.rawPayloadRef, decoded.actorPrincipalId, decoded.actorMemberId]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
