// ABOUTME: The builtin-pack data pages through app.inject (web-admin.md §5.11-5.13): activity logs with search and
// ABOUTME: limits, todos, the discussion board and its threads, escaping, and the session gate; SQLite via migrations.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLimit, ACTIVITY_LIMITS } from "../../src/webadmin/activity-routes.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { Browser, signedIn, startWebGateway } from "./support.js";

const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, "0")}:00.000Z`;
const rows = (body: string, testId: string) => (body.match(new RegExp(`data-testid="${testId}"`, "g")) ?? []).length;

describe("web admin activity pages", () => {
  let gw: TestGateway;
  let b: Browser;

  beforeAll(async () => {
    gw = await startWebGateway();
    b = await signedIn(gw);
    const db = gw.gateway.store.db;
    await db
      .insertInto("log_entries")
      .values([
        { id: "l1", agent_id: "alpha", message: "deployed 100% of <script>alert(1)</script>", tags: JSON.stringify(["deploy", "<b>x</b>"]), created_at: at(1) },
        { id: "l2", agent_id: "beta", message: "ran the tests", tags: null, created_at: at(2) },
        { id: "l3", agent_id: "alpha", message: "ran 1000 migrations", tags: "not json", created_at: at(3) },
      ])
      .execute();
    await db
      .insertInto("todos")
      .values([
        { id: "t1", agent_id: "alpha", description: "write <docs>", status: "in_progress", priority: "high", notes: "soon", due_date: "2026-04-01T00:00:00.000Z", created_at: at(1), updated_at: at(5) },
        { id: "t2", agent_id: "beta", description: "review", status: "pending", priority: "low", notes: null, due_date: null, created_at: at(2), updated_at: at(2) },
      ])
      .execute();
    await db
      .insertInto("bbs_posts")
      .values([
        { id: "p1", agent_id: "alpha", thread_id: null, subject: "Release <plan>", content: "first post", created_at: at(1) },
        { id: "p2", agent_id: "beta", thread_id: null, subject: "Quiet thread", content: "nobody answers", created_at: at(2) },
        { id: "r2", agent_id: "gamma", thread_id: "p1", subject: null, content: "second reply", created_at: at(4) },
        { id: "r1", agent_id: "beta", thread_id: "p1", subject: null, content: "first reply <img src=x onerror=alert(1)>", created_at: at(3) },
      ])
      .execute();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it("gates every page behind a session and marks its sidebar entry", async () => {
    const anon = new Browser(gw.gateway.http);
    for (const path of ["/admin/logs", "/admin/todos", "/admin/board", "/admin/board/p1"]) {
      const res = await anon.get(path);
      expect([res.statusCode, res.headers.location], path).toEqual([303, "/login"]);
    }
    expect((await b.get("/admin/todos")).body).toContain('<a href="/admin/todos" class="active" aria-current="page">Todos</a>');
  });

  it("lists log entries of every agent newest first, escaped, with tags as chips", async () => {
    const res = await b.get("/admin/logs");
    expect(res.statusCode).toBe(200);
    expect(rows(res.body, "log-row")).toBe(3);
    expect(res.body.indexOf("ran 1000 migrations")).toBeLessThan(res.body.indexOf("ran the tests"));
    expect(res.body.indexOf("ran the tests")).toBeLessThan(res.body.indexOf("deployed 100%"));
    expect(res.body).toContain("deployed 100% of &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(res.body).not.toContain("<script>alert(1)");
    expect(res.body).toContain('<span class="chip">deploy</span>');
    expect(res.body).toContain('<span class="chip">&lt;b&gt;x&lt;/b&gt;</span>');
    expect(res.body).toContain('name="limit" min="1" max="500" value="100"');
  });

  it("filters logs by a literal substring and honours the limit", async () => {
    const ran = await b.get("/admin/logs?q=ran");
    expect(rows(ran.body, "log-row")).toBe(2);
    expect(ran.body).toContain('name="q" value="ran"');
    const percent = await b.get(`/admin/logs?q=${encodeURIComponent("100%")}`);
    expect(rows(percent.body, "log-row")).toBe(1);
    expect(percent.body).toContain("deployed 100%");
    const none = await b.get("/admin/logs?q=nothing-matches");
    expect(rows(none.body, "log-row")).toBe(0);
    expect(none.body).toContain("No log entries match.");
    const two = await b.get("/admin/logs?limit=2");
    expect(rows(two.body, "log-row")).toBe(2);
    expect(two.body).not.toContain("deployed 100%");
    expect((await b.get("/admin/logs?limit=abc")).body).toContain('value="100"');
    expect((await b.get("/admin/logs?limit=9999")).body).toContain('value="500"');
  });

  it("lists todos with status, priority, due date or a dash, and notes", async () => {
    const res = await b.get("/admin/todos");
    expect(res.statusCode).toBe(200);
    expect(rows(res.body, "todo-row")).toBe(2);
    expect(res.body.indexOf("write &lt;docs&gt;")).toBeLessThan(res.body.indexOf("review"));
    expect(res.body).toContain('<span class="badge badge-in_progress">in_progress</span>');
    expect(res.body).toContain("2026-04-01T00:00:00.000Z");
    expect(res.body).toMatch(/review<\/td><td><span class="badge badge-pending">pending<\/span><\/td><td>low<\/td><td>—<\/td>/);
    expect(rows((await b.get("/admin/todos?limit=1")).body, "todo-row")).toBe(1);
  });

  it("lists top-level board threads with reply counts and shows a thread with its replies oldest first", async () => {
    const list = await b.get("/admin/board");
    expect(rows(list.body, "board-row")).toBe(2);
    expect(list.body).toContain("Release &lt;plan&gt;");
    expect(list.body).toMatch(/Release &lt;plan&gt;<\/td><td class="mono">alpha<\/td><td>.*?<\/td><td>2<\/td><td><a href="\/admin\/board\/p1">/);
    expect(list.body).toMatch(/Quiet thread<\/td>.*?<td>0<\/td>/);
    expect(list.body).not.toContain("second reply");
    const thread = await b.get("/admin/board/p1");
    expect(thread.statusCode).toBe(200);
    expect(rows(thread.body, "board-reply")).toBe(2);
    expect(thread.body).toContain("first post");
    expect(thread.body.indexOf("first reply")).toBeLessThan(thread.body.indexOf("second reply"));
    expect(thread.body).toContain("first reply &lt;img src=x onerror=alert(1)&gt;");
  });

  it("answers an unknown board thread, or a reply's id, with the 404 page `thread not found`", async () => {
    for (const id of ["nope", "r1"]) {
      const res = await b.get(`/admin/board/${id}`);
      expect(res.statusCode, id).toBe(404);
      expect(res.body).toContain('<h1 data-testid="not-found">thread not found</h1>');
    }
  });

  it("clamps limits: missing or invalid falls back to the default, larger than the maximum is the maximum", () => {
    expect(parseLimit(undefined, ACTIVITY_LIMITS.board)).toBe(50);
    expect(parseLimit("0", ACTIVITY_LIMITS.board)).toBe(50);
    expect(parseLimit("-3", ACTIVITY_LIMITS.logs)).toBe(100);
    expect(parseLimit("2.5", ACTIVITY_LIMITS.logs)).toBe(100);
    expect(parseLimit("201", ACTIVITY_LIMITS.board)).toBe(200);
    expect(parseLimit(" 7 ", ACTIVITY_LIMITS.todos)).toBe(7);
  });
});
