// ABOUTME: Builds @grpc/grpc-js service definitions from the protobuf-es service descriptors in src/gen.
// ABOUTME: Paths come from the descriptors (`/coven.<Service>/<Method>`), so they can never drift from the proto.
import { fromBinary, toBinary, type DescMessage, type DescService } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/** A grpc-js ServiceDefinition whose (de)serializers are the generated protobuf-es codecs. */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize:
        method.methodKind === "bidi_streaming" || method.methodKind === "client_streaming"
          ? lenientDeserializer(method.input)
          : deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
  }
  return definition as ServiceDefinition;
}

/**
 * A request frame of a client stream that could not be decoded. Handed to the handler instead of letting grpc-js end
 * the call with its own text, so the stream can end with the spec's `receiving message: <detail>`.
 */
export class DecodeFailure {
  constructor(readonly cause: Error) {}
}

function serializer(schema: DescMessage): (value: unknown) => Buffer {
  return (value) => {
    // Handlers that must check the encoded size first pass the bytes they already encoded.
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const bytes = toBinary(schema, value as never);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => fromBinary(schema, bytes);
}

function lenientDeserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (err) {
      return new DecodeFailure(err instanceof Error ? err : new Error(String(err)));
    }
  };
}
