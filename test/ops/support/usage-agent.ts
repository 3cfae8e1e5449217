// ABOUTME: A third-party agent for the budget tests: registers with token_usage and answers every send with one
// ABOUTME: usage report (1,000 input and 100 output tokens) and `done` "ok", so each turn has a known price.
import { covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../../support/proto-client.js";

/** Connects `agentId` to the gateway at `grpcAddr`; `addCleanup` receives what closes it. Resolves after Welcome. */
export async function usageAgent(grpcAddr: string, agentId: string, addCleanup: (fn: () => void | Promise<void>) => void): Promise<void> {
  const client = covenControlClient(grpcAddr);
  addCleanup(() => client.close());
  const stream = new ThirdPartyAgentStream(client as never);
  stream.call.on("data", (frame: ServerFrame) => {
    if (frame.payload !== "send_message") return;
    const id = (frame.send_message as Record<string, unknown>).request_id as string;
    stream.respond(id, { usage: { input_tokens: 1000, output_tokens: 100, cache_read_tokens: 0, cache_write_tokens: 0, thinking_tokens: 0 } });
    stream.respond(id, { done: { full_response: "ok" } });
  });
  stream.call.on("error", () => {});
  stream.register(agentId, { protocol_features: ["token_usage"] });
  await stream.next("welcome");
  addCleanup(() => stream.cancel());
}
