// ABOUTME: A grpc-js client for coven.PackService built from the generated protobuf-es descriptors in src/gen.
// ABOUTME: The only gateway file a pack uses is that generated code; no gateway internals are imported.
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as pb from "../../src/gen/coven_pb.js";

function codec<T extends DescMessage>(schema: T) {
  return {
    serialize: (value: unknown) => Buffer.from(toBinary(schema, value as never)),
    deserialize: (bytes: Buffer) => fromBinary(schema, bytes),
  };
}

/** The grpc-js service definition of PackService (paths `/coven.PackService/<Method>`). */
function packServiceDefinition(): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of pb.PackService.methods) {
    const input = codec(method.input);
    const output = codec(method.output);
    definition[method.name] = {
      path: `/${pb.PackService.typeName}/${method.name}`,
      requestStream: false,
      responseStream: method.methodKind === "server_streaming",
      requestSerialize: input.serialize,
      requestDeserialize: input.deserialize,
      responseSerialize: output.serialize,
      responseDeserialize: output.deserialize,
      originalName: method.localName,
    };
  }
  return definition as grpc.ServiceDefinition;
}

export type ToolRequest = pb.ExecuteToolRequest;

/** A connected PackService client: `register` opens the stream, `toolResult` answers one request. */
export interface PackServiceClient {
  register(manifest: { packId: string; version: string; tools: pb.ToolDefinition[] }, metadata: grpc.Metadata): grpc.ClientReadableStream<ToolRequest>;
  toolResult(requestId: string, result: { outputJson: string } | { error: string }, metadata: grpc.Metadata): Promise<void>;
  close(): void;
}

/** Opens an insecure (h2c) channel to `address` (`host:port`). */
export function createPackServiceClient(address: string): PackServiceClient {
  const Ctor = grpc.makeGenericClientConstructor(packServiceDefinition(), "PackService");
  const client = new Ctor(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  return {
    register(manifest, metadata) {
      const request = create(pb.PackManifestSchema, manifest);
      return (client.Register as (req: unknown, md: grpc.Metadata) => grpc.ClientReadableStream<ToolRequest>).call(client, request, metadata);
    },
    toolResult(requestId, result, metadata) {
      const response = create(pb.ExecuteToolResponseSchema, {
        requestId,
        result: "outputJson" in result ? { case: "outputJson", value: result.outputJson } : { case: "error", value: result.error },
      });
      return new Promise((resolve, reject) => {
        (client.ToolResult as (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null) => void) => void).call(
          client,
          response,
          metadata,
          (err) => (err ? reject(err) : resolve()),
        );
      });
    },
    close: () => client.close(),
  };
}

/** Builds a `ToolDefinition` message. */
export function toolDefinition(tool: {
  name: string;
  description: string;
  inputSchema: object;
  requiredCapabilities?: string[];
  timeoutSeconds?: number;
}): pb.ToolDefinition {
  return create(pb.ToolDefinitionSchema, {
    name: tool.name,
    description: tool.description,
    inputSchemaJson: JSON.stringify(tool.inputSchema),
    requiredCapabilities: tool.requiredCapabilities ?? [],
    timeoutSeconds: tool.timeoutSeconds ?? 0,
  });
}
