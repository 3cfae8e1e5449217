// ABOUTME: The one-shot notices of the web admin: a redirect carries `?notice=<code>`, the page shows its text.
// ABOUTME: Only known codes render (a URL cannot put arbitrary text on the page); `name` fills a placeholder.

const NOTICES: Record<string, string> = {
  principal_approved: "Principal approved",
  principal_revoked: "Principal revoked",
  principal_deleted: "Principal deleted",
  principal_created: "Principal created",
  agent_approved: "Agent approved",
  agent_revoked: "Agent revoked",
  binding_created: "Binding created",
  binding_updated: "Binding updated",
  binding_deleted: "Binding deleted",
  secret_created: "Secret created",
  secret_updated: "Secret updated",
  secret_deleted: "Secret deleted",
  tool_approved: "Tool approved",
  tool_denied: "Tool denied",
  link_approved: "Approved {name}",
};

/** The banner text for the request's `notice` (and `name`) query parameters; undefined when none or unknown. */
export function noticeText(query: Record<string, unknown>): string | undefined {
  const code = typeof query.notice === "string" ? query.notice : undefined;
  if (code === undefined) return undefined;
  const text = NOTICES[code];
  if (text === undefined) return undefined;
  const name = typeof query.name === "string" ? query.name : "";
  return text.replace("{name}", name);
}
