// ABOUTME: The web admin usage page shows cost beside tokens (ops.md §4.3, §8; web-admin.md §5.10): totals and per
// ABOUTME: agent in costs.currency, unpriced rows counting nothing, agent ids escaped; rendered by the real app over SQLite.
import { afterEach, describe, expect, it } from "vitest";
import { formatCost } from "../../web-admin/templates/admin-pages.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { signedIn, startWebGateway } from "../webadmin/support.js";

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe("usage page cost", () => {
  it("formats micros with at least two places and no trailing zeros beyond them", () => {
    expect(formatCost(0)).toBe("0.00");
    expect(formatCost(4500)).toBe("0.0045");
    expect(formatCost(12_000_000)).toBe("12.00");
    expect(formatCost(1_234_567)).toBe("1.234567");
    expect(formatCost(50_120_000)).toBe("50.12");
  });

  it("shows the priced cost in the totals and per agent, in the configured currency, escaped", async () => {
    gw = await startWebGateway({ mutate: (c) => ({ ...c, costs: { ...c.costs, currency: "EUR" } }) });
    const db = gw.gateway.store.db;
    const at = "2026-01-02T10:00:00.000Z";
    await db.insertInto("threads").values({ id: "th1", frontend_name: "direct", external_id: "th1", agent_id: "good", created_at: at, updated_at: at }).execute();
    const row = (id: string, agent: string, input: number, costMicros: number | null) => ({
      id,
      thread_id: "th1",
      message_id: null,
      request_id: id,
      agent_id: agent,
      input_tokens: input,
      output_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      thinking_tokens: 0,
      cost_micros: costMicros,
      created_at: at,
    });
    await db
      .insertInto("message_usage")
      .values([row("u1", "good", 300, 2_500_000), row("u2", "good", 200, null), row("u3", "<evil>", 100, 120_000)])
      .execute();
    const b = await signedIn(gw);
    const res = await b.get("/admin/usage");
    expect(res.statusCode).toBe(200);
    const body = res.body;
    const totals = /<table data-testid="usage-totals">([\s\S]*?)<\/table>/.exec(body)?.[1] ?? "";
    expect(totals).toContain("<th>Cost (EUR)</th>");
    expect(totals).toContain('<td data-testid="cost">2.62</td>');
    const perAgent = body.slice(body.indexOf("<h2>Per agent</h2>"));
    expect(perAgent).toContain("Cost (EUR)");
    expect(perAgent).toMatch(/<td class="mono">good<\/td>(?:<td>[^<]*<\/td>){7}<td data-testid="cost">2\.50<\/td>/);
    expect(perAgent).toMatch(/<td class="mono">&lt;evil&gt;<\/td>(?:<td>[^<]*<\/td>){7}<td data-testid="cost">0\.12<\/td>/);
    expect(body).not.toContain("<evil>");
  });
});
