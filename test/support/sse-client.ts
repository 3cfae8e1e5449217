// ABOUTME: A minimal SSE client over fetch for tests: parses `event:`/`data:` frames and comment lines.
// ABOUTME: Keeps raw text too, so tests can assert exact bytes (sorted keys, heartbeats).

export interface SseFrame {
  event: string;
  data: string;
  json: Record<string, unknown>;
}

export interface SseResponse {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  comments: string[];
  raw: string;
  /** Non-SSE body (JSON errors). */
  body: string;
}

/**
 * POSTs `body` and reads the whole SSE stream until the server ends it (or `until` returns true, which aborts).
 */
export async function postSse(
  url: string,
  body: unknown,
  options: { headers?: Record<string, string>; until?: (frames: SseFrame[]) => boolean; onFrame?: (f: SseFrame) => void; signal?: AbortSignal } = {},
): Promise<SseResponse> {
  const controller = new AbortController();
  options.signal?.addEventListener("abort", () => controller.abort());
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: controller.signal,
  });
  const result: SseResponse = { status: response.status, headers: response.headers, frames: [], comments: [], raw: "", body: "" };
  if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    result.body = await response.text();
    return result;
  }
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      result.raw += text;
      buffer += text;
      let index: number;
      while ((index = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        if (block.startsWith(":")) {
          result.comments.push(block);
          continue;
        }
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        const frame = { event, data, json: JSON.parse(data) as Record<string, unknown> };
        result.frames.push(frame);
        options.onFrame?.(frame);
        if (options.until?.(result.frames)) {
          controller.abort();
          return result;
        }
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  }
  return result;
}

/** Recursively checks that every object's keys are in lexicographic order. */
export function keysSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSorted);
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    const sorted = [...keys].sort();
    return keys.every((k, i) => k === sorted[i]) && Object.values(value).every(keysSorted);
  }
  return true;
}
