// ABOUTME: Conformance of proto/coven.proto with shared/spec/wire.md: counts, shapes and sample field numbers.
// ABOUTME: Also round-trips messages between protobuf-es and an independent proto-loader/protobufjs codec.
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import protobuf from "protobufjs";
import * as pb from "../../src/gen/coven_pb.js";

const file = pb.file_coven;

describe("coven.proto matches wire.md", () => {
  it("has one package, one import, four services in order", () => {
    expect(file.proto.package).toBe("coven");
    expect(file.proto.dependency).toEqual(["google/protobuf/empty.proto"]);
    expect(file.proto.options).toBeUndefined();
    expect(file.services.map((s) => s.typeName)).toEqual([
      "coven.CovenControl",
      "coven.AdminService",
      "coven.ClientService",
      "coven.PackService",
    ]);
  });

  it("has 20 RPCs with the documented shapes", () => {
    const methods = file.services.flatMap((s) => s.methods.map((m) => `${s.name}.${m.name}:${m.methodKind}`));
    expect(methods).toHaveLength(20);
    expect(methods.filter((m) => m.endsWith(":bidi_streaming"))).toEqual(["CovenControl.AgentStream:bidi_streaming"]);
    expect(methods.filter((m) => m.endsWith(":server_streaming")).sort()).toEqual([
      "ClientService.StreamEvents:server_streaming",
      "PackService.Register:server_streaming",
    ]);
    expect(methods.filter((m) => m.endsWith(":unary"))).toHaveLength(17);
    expect(file.services[2]!.methods.map((m) => m.name)).toEqual([
      "GetEvents",
      "GetMe",
      "SendMessage",
      "StreamEvents",
      "ListAgents",
      "RegisterAgent",
      "RegisterClient",
      "ApproveTool",
      "AnswerQuestion",
    ]);
  });

  it("has 75 messages, 252 fields, 33 optional, 19 repeated, 1 map, 6 oneofs with 41 members", () => {
    const declared = file.messages;
    expect(declared).toHaveLength(75);
    const fields: DescField[] = declared.flatMap((m) => m.fields);
    expect(fields).toHaveLength(252);
    expect(fields.filter((f) => f.proto.proto3Optional)).toHaveLength(33);
    expect(fields.filter((f) => f.fieldKind === "list")).toHaveLength(19);
    expect(fields.filter((f) => f.fieldKind === "map")).toHaveLength(1);
    const oneofs = declared.flatMap((m) => m.oneofs.filter((o) => !o.fields.every((f) => f.proto.proto3Optional)));
    expect(oneofs.map((o) => `${o.parent.name}.${o.name}:${o.fields.length}`).sort()).toEqual([
      "AgentMessage.payload:5",
      "ClientStreamEvent.payload:11",
      "ExecuteToolResponse.result:2",
      "MessageResponse.event:13",
      "PackToolResult.result:2",
      "ServerMessage.payload:8",
    ]);
    expect(pb.WelcomeSchema.fields.find((f) => f.name === "secrets")?.fieldKind).toBe("map");
    expect(declared.filter((m) => m.fields.length === 0).map((m) => m.name).sort()).toEqual([
      "DeleteBindingResponse",
      "DeletePrincipalResponse",
    ]);
  });

  it("has both enums with their values", () => {
    expect(file.enums.map((e) => [e.name, e.values.map((v) => `${v.name}=${v.number}`)])).toEqual([
      [
        "ToolState",
        [
          "TOOL_STATE_UNSPECIFIED=0",
          "TOOL_STATE_PENDING=1",
          "TOOL_STATE_AWAITING_APPROVAL=2",
          "TOOL_STATE_RUNNING=3",
          "TOOL_STATE_COMPLETED=4",
          "TOOL_STATE_FAILED=5",
          "TOOL_STATE_DENIED=6",
          "TOOL_STATE_TIMEOUT=7",
          "TOOL_STATE_CANCELLED=8",
        ],
      ],
      [
        "InjectionPriority",
        [
          "INJECTION_PRIORITY_UNSPECIFIED=0",
          "INJECTION_PRIORITY_IMMEDIATE=1",
          "INJECTION_PRIORITY_NORMAL=2",
          "INJECTION_PRIORITY_DEFERRED=3",
        ],
      ],
    ]);
  });

  it("keeps sample field numbers, types and presence", () => {
    const field = (msg: DescMessage, name: string) => msg.fields.find((f) => f.name === name)!;
    expect(field(pb.MessageResponseSchema, "cancelled").number).toBe(14);
    expect(field(pb.MessageResponseSchema, "tool_state").number).toBe(13);
    expect(field(pb.WelcomeSchema, "secrets").fieldKind).toBe("map");
    expect(field(pb.WelcomeSchema, "secrets").number).toBe(8);
    expect(field(pb.HeartbeatSchema, "timestamp_ms").scalar).toBe(3);
    expect(field(pb.ToolStateUpdateSchema, "detail").proto.proto3Optional).toBe(true);
    expect(field(pb.ClientStreamEventSchema, "user_question").number).toBe(13);
    expect(field(pb.PrincipalSchema, "pubkey_fp").proto.proto3Optional).toBe(true);
  });
});

describe("independent codec round trip", () => {
  const root = protobuf.loadSync(fileURLToPath(new URL("../../proto/coven.proto", import.meta.url)));

  it("decodes a RegisterAgent frame encoded by protobufjs", () => {
    const AgentMessage = root.lookupType("coven.AgentMessage");
    const bytes = AgentMessage.encode(
      AgentMessage.fromObject({
        register: {
          agentId: "coven-agent-1",
          name: "coven-agent-1",
          capabilities: ["chat", "base"],
          metadata: { workingDirectory: "/src", git: { branch: "main", dirty: true, ahead: 2 }, workspaces: ["w"], backend: "mux" },
          protocolFeatures: ["token_usage", "cancellation"],
        },
      }),
    ).finish();
    const decoded = fromBinary(pb.AgentMessageSchema, bytes);
    expect(decoded.payload.case).toBe("register");
    const register = decoded.payload.value as pb.RegisterAgent;
    expect(register.agentId).toBe("coven-agent-1");
    expect(register.metadata?.git?.ahead).toBe(2);
    expect(register.protocolFeatures).toEqual(["token_usage", "cancellation"]);
  });

  it("encodes a Welcome with secrets that protobufjs reads back", () => {
    const bytes = toBinary(
      pb.ServerMessageSchema,
      create(pb.ServerMessageSchema, {
        payload: { case: "welcome", value: { serverId: "coven-gateway-7", agentId: "a", secrets: { API_KEY: "x", B: "y" } } },
      }),
    );
    const decoded = root.lookupType("coven.ServerMessage").toObject(root.lookupType("coven.ServerMessage").decode(bytes)) as {
      welcome: { serverId: string; secrets: Record<string, string> };
    };
    expect(decoded.welcome.serverId).toBe("coven-gateway-7");
    expect(decoded.welcome.secrets).toEqual({ API_KEY: "x", B: "y" });
  });

  it("tolerates an unknown oneof member and an unknown enum number", () => {
    const unknownMember = new Uint8Array([0x0a, 0x01, 0x72, 0x98, 0x06, 0x01]);
    const decoded = fromBinary(pb.MessageResponseSchema, unknownMember);
    expect(decoded.event.case).toBeUndefined();
    const state = fromBinary(pb.ToolStateUpdateSchema, new Uint8Array([0x10, 0x63]));
    expect(state.state).toBe(99);
  });
});
