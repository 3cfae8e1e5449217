// ABOUTME: Tests the external-pack call lifecycle (packs-mcp.md §2.2-§2.4) through the router, with fake timers:
// ABOUTME: default and per-tool timeouts, late and foreign results, duplicates, disconnect, revocation, shutdown, FIFO writes.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../src/lib/logger.js";
import { ExternalPacks, type PackRequest, type PackStream, type PackStreamEnd } from "../../src/packs/external-packs.js";
import { ToolRegistry } from "../../src/packs/tool-registry.js";
import { createToolRouter, RouterError } from "../../src/packs/tool-router.js";

class FakeStream implements PackStream {
  sent: PackRequest[] = [];
  ended: PackStreamEnd[] = [];
  /** When set, each send waits for `release()` (backpressure). */
  isHeld = false;
  #held: Array<() => void> = [];

  send(request: PackRequest): Promise<void> {
    this.sent.push(request);
    if (!this.isHeld) return Promise.resolve();
    return new Promise((resolve) => this.#held.push(resolve));
  }

  release(): void {
    this.#held.shift()?.();
  }

  end(end: PackStreamEnd): void {
    this.ended.push(end);
  }
}

const tool = (name: string, timeoutSeconds = 0) => ({
  name,
  description: "",
  inputSchemaJson: "",
  requiredCapabilities: [],
  timeoutSeconds,
});

function setup() {
  const registry = new ToolRegistry({ log: silentLogger });
  const externals = new ExternalPacks({ registry, log: silentLogger });
  const router = createToolRouter({ registry, externals, log: silentLogger });
  const stream = new FakeStream();
  const registration = externals.register(
    { packId: "p", version: "1", tools: [tool("slow"), tool("quick", 2)] },
    "owner-1",
    stream,
  );
  const route = (name: string, requestId: string, signal = new AbortController().signal) =>
    router.route(name, "{}", requestId, { agentId: "a" }, signal);
  return { registry, externals, stream, registration, route };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("external pack calls", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("forwards the call with the caller's request_id and completes with the pack's result", async () => {
    const { externals, stream, route } = setup();
    const result = route("slow", "req-1");
    await flush();
    expect(stream.sent).toEqual([{ toolName: "slow", inputJson: "{}", requestId: "req-1" }]);
    expect(externals.deliverResult("req-1", "owner-1", { outputJson: '{"ok":true}' })).toBe(true);
    await expect(result).resolves.toEqual({ outputJson: '{"ok":true}' });
    expect(externals.pendingCount).toBe(0);
  });

  it("times out at the 30 s default, and ignores a result that arrives later", async () => {
    const { externals, route } = setup();
    const result = route("slow", "req-1");
    const settled = vi.fn();
    result.then(settled, settled);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).rejects.toEqual(new RouterError("context deadline exceeded"));
    expect(externals.deliverResult("req-1", "owner-1", { outputJson: "late" })).toBe(false);
    expect(externals.counters.ignoredResults).toBe(1);
  });

  it("times out at the tool's own timeout_seconds", async () => {
    const { route } = setup();
    const result = route("quick", "req-1");
    const settled = vi.fn();
    result.then(settled, settled);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).rejects.toEqual(new RouterError("context deadline exceeded"));
  });

  it("fails a duplicate pending request_id at once and sends nothing for it", async () => {
    const { externals, stream, route } = setup();
    const first = route("slow", "dup");
    await expect(route("quick", "dup")).rejects.toEqual(new RouterError("duplicate request ID"));
    await flush();
    expect(stream.sent.map((r) => r.toolName)).toEqual(["slow"]);
    externals.deliverResult("dup", "owner-1", { outputJson: "1" });
    await expect(first).resolves.toEqual({ outputJson: "1" });
  });

  it("ignores a result from a principal that does not own the pack, and unknown ids", async () => {
    const { externals, route } = setup();
    const result = route("slow", "req-1");
    expect(externals.deliverResult("req-1", "someone-else", { outputJson: "x" })).toBe(false);
    expect(externals.deliverResult("nope", "owner-1", { outputJson: "x" })).toBe(false);
    expect(externals.deliverResult("req-1", "owner-1", { error: "boom" })).toBe(true);
    await expect(result).resolves.toEqual({ error: "boom" });
    expect(externals.deliverResult("req-1", "owner-1", { outputJson: "second" })).toBe(false);
  });

  it("fails every pending call of a pack the moment its stream ends, queued ones included, and unregisters it", async () => {
    const { externals, registry, stream, registration, route } = setup();
    stream.isHeld = true;
    const sent = route("slow", "a");
    const queued = route("slow", "b");
    await flush();
    expect(stream.sent.map((r) => r.requestId)).toEqual(["a"]);
    registration.disconnected();
    await expect(sent).rejects.toEqual(new RouterError("pack disconnected"));
    await expect(queued).rejects.toEqual(new RouterError("pack disconnected"));
    expect(registry.get("slow")).toBeUndefined();
    expect(externals.has("p")).toBe(false);
    expect(stream.ended).toEqual([]);
    stream.release();
    await flush();
    expect(stream.sent.map((r) => r.requestId)).toEqual(["a"]);
  });

  it("writes one request at a time, in routing order, each after the previous write was taken", async () => {
    const { stream, route } = setup();
    stream.isHeld = true;
    void route("slow", "1").catch(() => {});
    void route("slow", "2").catch(() => {});
    void route("slow", "3").catch(() => {});
    await flush();
    expect(stream.sent.map((r) => r.requestId)).toEqual(["1"]);
    stream.release();
    await flush();
    expect(stream.sent.map((r) => r.requestId)).toEqual(["1", "2"]);
    stream.release();
    await flush();
    expect(stream.sent.map((r) => r.requestId)).toEqual(["1", "2", "3"]);
  });

  it("does not send a queued call whose caller went away, and fails it context canceled", async () => {
    const { stream, route } = setup();
    stream.isHeld = true;
    void route("slow", "1").catch(() => {});
    const controller = new AbortController();
    const gone = route("slow", "2", controller.signal);
    controller.abort();
    await expect(gone).rejects.toEqual(new RouterError("context canceled"));
    stream.release();
    await flush();
    expect(stream.sent.map((r) => r.requestId)).toEqual(["1"]);
  });

  it("ends the streams of a revoked principal with its status and fails their calls", async () => {
    const { externals, stream, route } = setup();
    const result = route("slow", "r");
    expect(externals.closePrincipal("owner-1", { code: "PERMISSION_DENIED", message: "principal has been revoked" })).toBe(1);
    await expect(result).rejects.toEqual(new RouterError("pack disconnected"));
    expect(stream.ended).toEqual([{ code: "PERMISSION_DENIED", message: "principal has been revoked" }]);
  });

  it("on shutdown fails pending calls, ends every stream UNAVAILABLE and refuses new registrations", async () => {
    const { externals, stream, route } = setup();
    const result = route("slow", "r");
    externals.shutdown();
    await expect(result).rejects.toEqual(new RouterError("pack disconnected"));
    expect(stream.ended).toEqual([{ code: "UNAVAILABLE", message: "gateway shutting down" }]);
    expect(() => externals.register({ packId: "q", version: "1", tools: [] }, "owner-1", new FakeStream())).toThrow("gateway shutting down");
  });

  it("lets a pack id register again once the previous stream ended, and keeps the old registration's end harmless", async () => {
    const { externals, registration, route } = setup();
    registration.disconnected();
    const again = new FakeStream();
    const second = externals.register({ packId: "p", version: "2", tools: [tool("slow")] }, "owner-1", again);
    registration.disconnected();
    expect(externals.has("p")).toBe(true);
    const result = route("slow", "x");
    await flush();
    expect(again.sent.map((r) => r.requestId)).toEqual(["x"]);
    second.disconnected();
    await expect(result).rejects.toEqual(new RouterError("pack disconnected"));
  });
});
