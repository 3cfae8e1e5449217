// ABOUTME: coven.PackService on the gRPC server (packs-mcp.md §2): Register keeps a pack live while its stream is open,
// ABOUTME: ToolResult completes a pending call. Register answers empty headers as "registered"; never a PackWelcome.
import { create } from "@bufbuild/protobuf";
import type { DescService } from "@bufbuild/protobuf";
import { EmptySchema, type Empty } from "@bufbuild/protobuf/wkt";
import { Metadata, type ServerWritableStream, type UntypedServiceImplementation } from "@grpc/grpc-js";
import * as pb from "../gen/coven_pb.js";
import type { Logger } from "../lib/logger.js";
import type { ExternalPacks, PackRegistration, PackStream } from "../packs/external-packs.js";
import type { PackManifest } from "../packs/tool-registry.js";
import type { RpcAuthenticator } from "./rpc-auth.js";
import { authenticatedServerStream, authenticatedUnary, methodPath } from "./rpc-handlers.js";
import { grpcStatusOf, toGrpcError } from "./status-map.js";

/** Decodes a `PackManifest` into the registry's shape. */
export function decodeManifest(manifest: pb.PackManifest): PackManifest {
  return {
    packId: manifest.packId,
    version: manifest.version,
    tools: manifest.tools.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchemaJson: t.inputSchemaJson,
      requiredCapabilities: [...t.requiredCapabilities],
      timeoutSeconds: t.timeoutSeconds,
    })),
  };
}

/** Decodes an `ExecuteToolResponse`: a non-empty `error` is a tool-level error; anything else is success. */
export function decodeToolResult(response: pb.ExecuteToolResponse): { outputJson: string } | { error: string } {
  const result = response.result;
  if (result.case === "error" && result.value !== "") return { error: result.value };
  if (result.case === "outputJson") return { outputJson: result.value };
  return { outputJson: "" };
}

type RegisterCall = ServerWritableStream<pb.PackManifest, pb.ExecuteToolRequest>;

function streamOf(call: RegisterCall): PackStream {
  return {
    send(request) {
      return new Promise<void>((resolve, reject) => {
        if (call.cancelled || call.destroyed || call.writableEnded) {
          reject(new Error("pack stream closed"));
          return;
        }
        const message = create(pb.ExecuteToolRequestSchema, request);
        call.write(message, (err: Error | null | undefined) => (err ? reject(err) : resolve()));
      });
    },
    end(end) {
      if (call.cancelled || call.destroyed || call.writableEnded) return;
      if (end.code === "OK") {
        call.end();
        return;
      }
      call.emit("error", { code: grpcStatusOf(end.code), details: end.message, message: end.message });
    },
  };
}

/** PackService over the live external packs. Any authenticated principal may register (no role gate, §2.1). */
export function createPackService(deps: { auth: RpcAuthenticator; log: Logger; packs: ExternalPacks }): {
  service: DescService;
  implementation: UntypedServiceImplementation;
} {
  const { log, packs } = deps;
  const handlerDeps = { auth: deps.auth, log };
  const registerPath = methodPath(pb.PackService, "Register");
  const resultPath = methodPath(pb.PackService, "ToolResult");
  return {
    service: pb.PackService,
    implementation: {
      Register: authenticatedServerStream<pb.PackManifest, pb.ExecuteToolRequest>(handlerDeps, registerPath, (call, principal) => {
        if (call.cancelled) return;
        let registration: PackRegistration;
        try {
          registration = packs.register(decodeManifest(call.request), principal.id, streamOf(call));
        } catch (err) {
          call.emit("error", toGrpcError(err, log, { path: registerPath }));
          return;
        }
        let isDone = false;
        const done = () => {
          if (isDone) return;
          isDone = true;
          registration.disconnected();
        };
        call.on("cancelled", done);
        call.on("close", done);
        call.on("error", done);
        call.on("finish", done);
        call.sendMetadata(new Metadata());
      }),
      ToolResult: authenticatedUnary<pb.ExecuteToolResponse, Empty>(handlerDeps, resultPath, async (request, principal) => {
        packs.deliverResult(request.requestId, principal.id, decodeToolResult(request));
        return create(EmptySchema);
      }),
    } as UntypedServiceImplementation,
  };
}
