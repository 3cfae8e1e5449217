// ABOUTME: The benchmark's grpc-js wire pieces: the floor service (ping-pong, N-chunk stream), the gateway's AgentStream
// ABOUTME: method for the lean agent, and the chunk texts. Same protobuf-es messages as the gateway, same codec costs.
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import * as pb from "../src/gen/coven_pb.js";

function method<Req extends DescMessage, Res extends DescMessage>(
  path: string,
  request: Req,
  response: Res,
  stream: { requestStream: boolean; responseStream: boolean },
): MethodDefinition<MessageShape<Req>, MessageShape<Res>> {
  const encode = <S extends DescMessage>(schema: S) => (value: MessageShape<S>): Buffer => {
    const bytes = toBinary(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  return {
    path,
    ...stream,
    requestSerialize: encode(request),
    requestDeserialize: (bytes: Buffer) => fromBinary(request, bytes),
    responseSerialize: encode(response),
    responseDeserialize: (bytes: Buffer) => fromBinary(response, bytes),
    originalName: path.slice(path.lastIndexOf("/") + 1),
  };
}

/**
 * The floor service. The server plays the agent: it receives `ServerMessage{send_message}` and answers with
 * `AgentMessage{response}` frames, exactly the frame types an agent stream carries.
 */
export const floorService = {
  /** Bidi: one `send_message` in, one `response{done}` out, per round trip, on one long-lived stream. */
  pingPong: method("/bench.Floor/PingPong", pb.ServerMessageSchema, pb.AgentMessageSchema, { requestStream: true, responseStream: true }),
  /** Server streaming: `send_message{content: "<N>"}` in, N `response{text}` frames out (see `chunkText`). */
  stream: method("/bench.Floor/Stream", pb.ServerMessageSchema, pb.AgentMessageSchema, { requestStream: false, responseStream: true }),
} satisfies ServiceDefinition;

/** The gateway's `CovenControl.AgentStream`, as an agent (the client) sees it. */
export const agentStreamMethod = method("/coven.CovenControl/AgentStream", pb.AgentMessageSchema, pb.ServerMessageSchema, {
  requestStream: true,
  responseStream: true,
});

/** The gateway's `ClientService.StreamEvents`, served by the gateway and by the replay floor alike. */
export const streamEventsMethod = method("/coven.ClientService/StreamEvents", pb.StreamEventsRequestSchema, pb.ClientStreamEventSchema, {
  requestStream: false,
  responseStream: true,
});

/** A `send_message` frame as the gateway would send it to an agent. */
export function sendMessageFrame(requestId: string, content: string): pb.ServerMessage {
  return create(pb.ServerMessageSchema, {
    payload: { case: "sendMessage", value: { requestId, threadId: "bench-thread", sender: "bench", content } },
  });
}

/** An agent `response` frame carrying one text chunk or the terminal `done`. */
export function responseFrame(requestId: string, event: { case: "text"; value: string } | { case: "done"; value: string }): pb.AgentMessage {
  const value =
    event.case === "text"
      ? create(pb.MessageResponseSchema, { requestId, event: { case: "text", value: event.value } })
      : create(pb.MessageResponseSchema, { requestId, event: { case: "done", value: create(pb.DoneSchema, { fullResponse: event.value }) } });
  return create(pb.AgentMessageSchema, { payload: { case: "response", value } });
}

/** Width of every streamed chunk, in characters. */
export const CHUNK_WIDTH = 16;

/**
 * The i-th chunk of the streamed text: exactly CHUNK_WIDTH ASCII characters (`c0000042-abcdefg`), so a text of N
 * chunks splits evenly back into the same N pieces and needs no JSON escaping.
 */
export function chunkText(i: number): string {
  return `c${String(i).padStart(7, "0")}-abcdefg`;
}

/** The whole streamed text of `n` chunks. */
export function streamedText(n: number): string {
  let text = "";
  for (let i = 0; i < n; i++) text += chunkText(i);
  return text;
}
