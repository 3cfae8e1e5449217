// ABOUTME: Harness of the browser suite: one Chromium (playwright-core, Debian binary), a gateway on localhost:P
// ABOUTME: with auth on, SSH-authenticated scripted agents, and a console collector for CSP violations.
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { chromium, type Browser, type ConsoleMessage, type Page } from "playwright-core";
import { ScriptedAgent } from "../rpc/support/conversation-clients.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { fingerprintOf, newAgentKey, seedPrincipal, sshMetadata } from "../support/identity-fixtures.js";
import { startWebGateway } from "../webadmin/support.js";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM_PATH);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A free TCP port on loopback (closed again before the gateway binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A gateway with `server.http_addr: localhost:P` and `webadmin.base_url: http://localhost:P`, auth on. */
export async function startBrowserGateway(): Promise<{ gw: TestGateway; base: string }> {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const gw = await startWebGateway({
    limits: { toolApprovalTimeoutMs: 60_000 },
    mutate: (c) => ({ ...c, server: { ...c.server, httpAddr: `localhost:${port}` }, webadmin: { baseUrl: base } }),
  });
  return { gw, base };
}

/** An approved agent principal with an SSH key, connected as `agentId` with the ui capability. */
export async function connectSshAgent(
  gw: TestGateway,
  agentId: string,
  options: { features?: string[]; name?: string } = {},
): Promise<{ agent: ScriptedAgent; principalId: string; reconnect(): Promise<ScriptedAgent> }> {
  const key = newAgentKey();
  const principalId = await seedPrincipal(gw.gateway.store.db, { type: "agent", fingerprint: fingerprintOf(key), displayName: `${agentId} principal` });
  const open = async () => {
    const agent = new ScriptedAgent(gw.grpcAddr, undefined, sshMetadata(key));
    agent.stream.register(agentId, {
      name: options.name ?? agentId,
      capabilities: ["chat", "ui"],
      protocol_features: options.features ?? ["token_usage", "tool_states"],
      metadata: { working_directory: `/work/${agentId}`, hostname: "agent-host", os: "linux", workspaces: [], backend: "direct" },
    });
    await agent.stream.next("welcome");
    return agent;
  };
  return { agent: await open(), principalId, reconnect: open };
}

/** Records console messages of every page of a context. */
export class ConsoleLog {
  readonly messages: string[] = [];

  watch(page: Page): Page {
    page.on("console", (msg: ConsoleMessage) => this.messages.push(`${msg.type()}: ${msg.text()}`));
    page.on("pageerror", (err) => this.messages.push(`pageerror: ${err.message}`));
    return page;
  }

  cspViolations(): string[] {
    return this.messages.filter((m) => m.includes("Content Security Policy") || m.includes("Refused to"));
  }
}
