// ABOUTME: Tests the derived public base URL and MCP endpoint (config spec §5.1) and host:port parsing.
// ABOUTME: Configs come from the real defaults with the fields under test replaced.

import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/default-config.js";
import { isLocalHostName, mcpEndpoint, parseHostPort, publicBaseUrl } from "../../src/config/derived.js";
import type { GatewayConfig } from "../../src/config/types.js";
import { GatewayError } from "../../src/lib/gateway-error.js";

function configWith(httpAddr: string, baseUrl = ""): GatewayConfig {
  const base = defaultConfig({}, "/home/test");
  return { ...base, server: { ...base.server, httpAddr }, webadmin: { baseUrl } };
}

describe("parseHostPort", () => {
  it.each([
    ["localhost:8080", "localhost", 8080],
    ["0.0.0.0:0", "0.0.0.0", 0],
    [":50051", "", 50051],
    ["[::1]:50051", "::1", 50051],
    ["[::]:8080", "::", 8080],
    ["gw.example.com:65535", "gw.example.com", 65535],
  ])("splits %s", (addr, host, port) => {
    expect(parseHostPort(addr)).toEqual({ host, port });
  });

  it.each(["localhost", "::1:8080", "host:65536", "host:", "host:abc", "[::1]"])("rejects %j", (addr) => {
    let caught: unknown;
    try {
      parseHostPort(addr);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect(caught).toMatchObject({ code: "INVALID_ARGUMENT", message: `invalid address "${addr}" (expected host:port)` });
  });
});

describe("isLocalHostName", () => {
  it("covers empty, wildcards, localhost, 127.0.0.0/8 and ::1 only", () => {
    for (const h of ["", "0.0.0.0", "::", "localhost", "LocalHost", "127.0.0.1", "127.9.8.7", "::1"]) {
      expect(isLocalHostName(h)).toBe(true);
    }
    for (const h of ["10.0.0.1", "gw.example.com", "127.example.com", "::2"]) expect(isLocalHostName(h)).toBe(false);
  });
});

describe("publicBaseUrl", () => {
  it("shows wildcard and loopback hosts as localhost with the bound port", () => {
    expect(publicBaseUrl(configWith("0.0.0.0:8080"), 8080, {})).toBe("http://localhost:8080");
    expect(publicBaseUrl(configWith("[::]:8080"), 8080, {})).toBe("http://localhost:8080");
    expect(publicBaseUrl(configWith(":8080"), 8080, {})).toBe("http://localhost:8080");
    expect(publicBaseUrl(configWith("127.0.0.1:8080"), 8080, {})).toBe("http://localhost:8080");
    expect(publicBaseUrl(configWith("[::1]:8080"), 8080, {})).toBe("http://localhost:8080");
  });

  it("keeps other hosts, bracketing IPv6", () => {
    expect(publicBaseUrl(configWith("gw.internal:8080"), 8080, {})).toBe("http://gw.internal:8080");
    expect(publicBaseUrl(configWith("[2001:db8::1]:8080"), 8080, {})).toBe("http://[2001:db8::1]:8080");
  });

  it("uses the bound port when the configured port is 0", () => {
    expect(publicBaseUrl(configWith("localhost:0"), 43210, {})).toBe("http://localhost:43210");
  });

  it("prefers webadmin.base_url over COVEN_GATEWAY_URL, and that over the listen address", () => {
    const env = { COVEN_GATEWAY_URL: "https://env.example.com/" };
    expect(publicBaseUrl(configWith("0.0.0.0:8080", "https://gw.example.com"), 8080, env)).toBe("https://gw.example.com");
    expect(publicBaseUrl(configWith("0.0.0.0:8080"), 8080, env)).toBe("https://env.example.com");
    expect(publicBaseUrl(configWith("0.0.0.0:8080"), 8080, { COVEN_GATEWAY_URL: "" })).toBe("http://localhost:8080");
  });
});

describe("mcpEndpoint", () => {
  it("uses COVEN_MCP_ENDPOINT verbatim first", () => {
    const env = { COVEN_MCP_ENDPOINT: "https://mcp.example.com/x/", COVEN_GATEWAY_URL: "https://gw.example.com" };
    expect(mcpEndpoint(configWith("0.0.0.0:8080"), 8080, env)).toBe("https://mcp.example.com/x/");
  });

  it("then COVEN_GATEWAY_URL + /mcp", () => {
    expect(mcpEndpoint(configWith("0.0.0.0:8080"), 8080, { COVEN_GATEWAY_URL: "https://gw.example.com" })).toBe(
      "https://gw.example.com/mcp",
    );
    expect(mcpEndpoint(configWith("0.0.0.0:8080"), 8080, { COVEN_GATEWAY_URL: "https://gw.example.com/" })).toBe(
      "https://gw.example.com/mcp",
    );
  });

  it("then http://<server.http_addr>/mcp verbatim, ignoring webadmin.base_url", () => {
    expect(mcpEndpoint(configWith("0.0.0.0:8080", "https://gw.example.com"), 8080, {})).toBe("http://0.0.0.0:8080/mcp");
    expect(mcpEndpoint(defaultConfig({}, "/home/test"), 8080, {})).toBe("http://localhost:8080/mcp");
  });

  it("replaces a configured port 0 with the bound port", () => {
    expect(mcpEndpoint(configWith("localhost:0"), 43210, {})).toBe("http://localhost:43210/mcp");
    expect(mcpEndpoint(configWith("[::1]:0"), 43210, {})).toBe("http://[::1]:43210/mcp");
  });
});
