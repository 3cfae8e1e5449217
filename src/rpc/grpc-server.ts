// ABOUTME: Creates the one gRPC server (HTTP/2 cleartext) hosting the coven services, with keepalive settings.
// ABOUTME: Binds `host:port` (localhost binds every address it resolves to), logs one access line per call, stops gracefully.
import {
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  status as GrpcStatus,
  type Metadata,
  type ServerInterceptor,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { DescService } from "@bufbuild/protobuf";
import { grpcServiceDefinition } from "./service-definition.js";
import type { Logger } from "../lib/logger.js";
import { callPrincipalId } from "./rpc-auth.js";

export interface GrpcServerOptions {
  log: Logger;
  maxMessageBytes: number;
  services: Array<{ service: DescService; implementation: UntypedServiceImplementation }>;
}

export interface GrpcServerHandle {
  listen(addr: string): Promise<{ port: number }>;
  /** Graceful stop; forced once `deadlineMs` has passed. */
  stop(deadlineMs: number): Promise<void>;
}

/**
 * Builds the server: a PING every 15 s with a 5 s ack timeout on every connection (agent-stream.md §1), the 4 MiB
 * default message limit in both directions (configurable).
 */
export function createGrpcServer(options: GrpcServerOptions): GrpcServerHandle {
  const server = new Server({
    "grpc.keepalive_time_ms": 15_000,
    "grpc.keepalive_timeout_ms": 5_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
    interceptors: [accessLine(options.log)],
  });
  for (const { service, implementation } of options.services) {
    server.addService(grpcServiceDefinition(service), implementation);
  }
  let listening = false;
  return {
    listen(addr: string): Promise<{ port: number }> {
      return new Promise((resolve, reject) => {
        server.bindAsync(addr, ServerCredentials.createInsecure(), (err, port) => {
          if (err) {
            reject(err);
            return;
          }
          listening = true;
          resolve({ port });
        });
      });
    },
    stop(deadlineMs: number): Promise<void> {
      if (!listening) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          options.log.warn("gRPC graceful stop timed out; forcing");
          server.forceShutdown();
          resolve();
        }, deadlineMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * ops.md §6: one `rpc` line per call at info once its status is sent (or the client cancels), never per stream
 * message: `rpc` (the method path), `principal_id` (once the call authenticated), `status` (the gRPC code's name), `duration_ms`. Bodies and metadata never appear.
 */
function accessLine(log: Logger): ServerInterceptor {
  return (method, call) => {
    const started = performance.now();
    let logged = false;
    let metadata: Metadata | undefined;
    const line = (code: number): void => {
      if (logged) return;
      logged = true;
      const principalId = metadata === undefined ? undefined : callPrincipalId(metadata);
      log.info("rpc", {
        rpc: method.path,
        ...(principalId === undefined ? {} : { principal_id: principalId }),
        status: GrpcStatus[code] ?? String(code),
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
      });
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (received, pass) => {
            metadata = received;
            pass(received);
          },
          onCancel: () => line(GrpcStatus.CANCELLED),
        }),
      sendStatus: (status, next) => {
        line(status.code);
        next(status);
      },
    });
  };
}
