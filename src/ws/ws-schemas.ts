// ABOUTME: The JSON Schemas (draft 2020-12) of every WebSocket frame, defined once (ws.md §1): the document served
// ABOUTME: at GET /ws/schema.json, the method field lists behind the params messages, and the compiled validators.
import { createHash } from "node:crypto";
import * as ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import { STREAM_CLOSE_REASONS } from "../agent/stream-close-reason.js";

/** The only protocol this server speaks. */
export const WS_PROTOCOL = 1;
export const WS_SCHEMA_ID = "urn:coven-gateway:ws:1";

type FieldType = "string" | "integer" | "boolean" | "array";

/** One params field of a method, in the method's field order (ws.md §3.1). */
export interface ParamField {
  name: string;
  type: FieldType;
  isRequired?: boolean;
  maxLength?: number;
}

/** The methods of protocol 1 with their `$defs` stem and params, in the spec's field order. */
export const METHODS: Readonly<Record<string, { def: string; fields: readonly ParamField[] }>> = {
  "agents.list": { def: "AgentsList", fields: [{ name: "workspace", type: "string" }] },
  send: {
    def: "Send",
    fields: [
      { name: "content", type: "string", isRequired: true },
      { name: "idempotency_key", type: "string", isRequired: true, maxLength: 100 },
      { name: "agent_id", type: "string" },
      { name: "frontend", type: "string" },
      { name: "channel_id", type: "string" },
      { name: "sender", type: "string" },
      { name: "thread_id", type: "string" },
    ],
  },
  cancel: {
    def: "Cancel",
    fields: [
      { name: "request_id", type: "string", isRequired: true },
      { name: "reason", type: "string" },
    ],
  },
  "tools.approve": {
    def: "ToolsApprove",
    fields: [
      { name: "agent_id", type: "string", isRequired: true },
      { name: "tool_id", type: "string", isRequired: true },
      { name: "approved", type: "boolean" },
      { name: "approve_all", type: "boolean" },
    ],
  },
  "questions.answer": {
    def: "QuestionsAnswer",
    fields: [
      { name: "agent_id", type: "string", isRequired: true },
      { name: "question_id", type: "string", isRequired: true },
      { name: "selected", type: "array" },
      { name: "custom_text", type: "string" },
    ],
  },
  "events.get": {
    def: "EventsGet",
    fields: [
      { name: "conversation_key", type: "string", isRequired: true },
      { name: "since", type: "string" },
      { name: "until", type: "string" },
      { name: "limit", type: "integer" },
      { name: "cursor", type: "string" },
    ],
  },
  subscribe: {
    def: "Subscribe",
    fields: [
      { name: "topic", type: "string", isRequired: true, maxLength: 256 },
      { name: "since_event_id", type: "string" },
    ],
  },
  unsubscribe: { def: "Unsubscribe", fields: [{ name: "topic", type: "string", isRequired: true }] },
  ping: { def: "Ping", fields: [] },
};

/** The sorted method names announced in `hello-ok`. */
export const METHOD_NAMES: readonly string[] = Object.keys(METHODS).sort();

/** The event names of protocol 1 with their payload `$defs`. */
export const EVENT_DEFS: Readonly<Record<string, string>> = {
  activity: "ActivityPayload",
  approval: "ApprovalPayload",
  ledger: "LedgerPayload",
  maintenance: "MaintenancePayload",
  presence: "PresencePayload",
  question: "QuestionPayload",
  run: "RunPayload",
  shutdown: "ShutdownPayload",
  synced: "SyncedPayload",
  tick: "TickPayload",
  unsubscribed: "UnsubscribedPayload",
};
export const EVENT_NAMES: readonly string[] = Object.keys(EVENT_DEFS).sort();

type Schema = Record<string, unknown>;
const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const str: Schema = { type: "string" };
const int: Schema = { type: "integer" };
const bool: Schema = { type: "boolean" };
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema => ({
  type: "object",
  properties,
  required,
});
const strings: Schema = { type: "array", items: str };

function paramsSchema(fields: readonly ParamField[]): Schema {
  const properties: Record<string, Schema> = {};
  for (const field of fields) {
    const base: Schema =
      field.type === "array" ? { type: "array", items: str } : field.type === "integer" ? { type: "integer", minimum: 1 } : { type: field.type };
    if (field.isRequired) {
      properties[field.name] = { ...base, ...(field.type === "string" ? { minLength: 1 } : {}), ...(field.maxLength ? { maxLength: field.maxLength } : {}) };
    } else {
      // Optional fields accept null as absent.
      properties[field.name] = { anyOf: [{ type: "null" }, { ...base, ...(field.maxLength ? { maxLength: field.maxLength } : {}) }] };
    }
  }
  return { type: "object", properties, required: fields.filter((f) => f.isRequired).map((f) => f.name) };
}

const ledgerEvent = obj(
  {
    id: str,
    conversation_key: str,
    thread_id: str,
    request_id: str,
    direction: { enum: ["inbound_to_agent", "outbound_from_agent"] },
    author: str,
    timestamp: str,
    type: str,
    text: str,
    raw_transport: str,
    raw_payload_ref: str,
    actor_principal_id: str,
    actor_member_id: str,
  },
  ["id", "conversation_key", "direction", "author", "timestamp", "type"],
);
const agentItem = obj({ id: str, instance_id: str, name: str, capabilities: strings, workspaces: strings, working_dir: str, backend: str, state: str }, [
  "id",
  "name",
  "capabilities",
  "state",
]);
const approvalItem = obj({ agent_id: str, request_id: str, tool_id: str, tool_name: str, input_json: str, thread_id: str, created_at: str, expires_at: str });
const questionItem = obj({
  agent_id: str,
  question_id: str,
  question: str,
  options: { type: "array", items: obj({ label: str, description: str }) },
  multi_select: bool,
  header: str,
  timeout_seconds: int,
  created_at: str,
  expires_at: str,
});
const maintenance = obj({ enabled: bool, message: str, since: { type: ["string", "null"] } });
const runKinds = [
  "started",
  "thinking",
  "text",
  "tool_use",
  "tool_result",
  "tool_state",
  "tool_approval",
  "user_question",
  "usage",
  "file",
  "session_init",
  "session_orphaned",
  "done",
  "error",
  "canceled",
];
const errorCodes = [
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "INVALID_ARGUMENT",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "FAILED_PRECONDITION",
  "RESOURCE_EXHAUSTED",
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "CANCELED",
  "INTERNAL",
];

function buildDocument(): Schema {
  const defs: Record<string, Schema> = {
    Hello: obj(
      {
        type: { const: "hello" },
        min_protocol: { type: "integer", minimum: 1 },
        max_protocol: { type: "integer", minimum: 1 },
        client: obj(
          { name: { type: "string", minLength: 1, maxLength: 64 }, version: { type: "string", minLength: 1, maxLength: 64 }, platform: { type: "string", maxLength: 64 } },
          ["name", "version"],
        ),
        auth: obj({ token: str }, []),
      },
      ["type", "min_protocol", "max_protocol", "client"],
    ),
    HelloOk: obj({
      type: { const: "hello-ok" },
      protocol: { const: WS_PROTOCOL },
      server: obj({ version: str, server_id: str, conn_id: str }),
      identity: obj({ kind: { enum: ["principal", "webadmin", "anonymous"] }, id: str, display_name: str, roles: strings }),
      features: obj({ methods: strings, events: strings }),
      snapshot: obj({
        agents: { type: "array", items: agentItem },
        pending_approvals: { type: "array", items: approvalItem },
        pending_questions: { type: "array", items: questionItem },
        maintenance,
      }),
      policy: obj({ max_payload: int, max_buffered_bytes: int, tick_interval_ms: int, max_subscriptions: int }),
    }),
    HelloError: obj(
      {
        type: { const: "hello-error" },
        reason: { enum: ["invalid hello", "protocol mismatch", "unauthenticated", "too many connections"] },
        message: str,
        expected_protocol: int,
      },
      ["type", "reason"],
    ),
    Request: obj({ type: { const: "req" }, id: { type: "string", minLength: 1, maxLength: 64 }, method: str, params: { type: ["object", "null"] } }, [
      "type",
      "id",
      "method",
    ]),
    Response: {
      oneOf: [
        obj({ type: { const: "res" }, id: str, ok: { const: true }, payload: { type: "object" } }),
        obj({
          type: { const: "res" },
          id: str,
          ok: { const: false },
          error: obj({ code: { enum: errorCodes }, message: str, retry_after_ms: int }, ["code", "message"]),
        }),
      ],
    },
    Event: {
      type: "object",
      properties: { type: { const: "event" }, event: { enum: [...EVENT_NAMES] }, topic: str, seq: { type: "integer", minimum: 1 }, payload: { type: "object" } },
      required: ["type", "event", "seq", "payload"],
      allOf: Object.entries(EVENT_DEFS).map(([name, def]) => ({
        if: { properties: { event: { const: name } } },
        then: { properties: { payload: ref(def) } },
      })),
    },
    LedgerEvent: ledgerEvent,
    AgentItem: agentItem,
    ApprovalItem: approvalItem,
    QuestionItem: questionItem,
    RunPayload: obj({ request_id: str, kind: { enum: runKinds }, data: { type: "object" } }),
    LedgerPayload: obj({ event: ref("LedgerEvent"), replay: { const: true } }, ["event"]),
    ActivityPayload: obj({ request_id: str, kind: { enum: runKinds.filter((k) => k !== "started") }, data: { type: "object" }, replay: { const: true } }, [
      "kind",
      "data",
    ]),
    PresencePayload: obj({ kind: { enum: ["connected", "state", "disconnected"] }, agent: ref("AgentItem"), reason: { enum: [...STREAM_CLOSE_REASONS] } }, ["kind", "agent"]),
    ApprovalPayload: {
      oneOf: [
        obj({ kind: { const: "raised" }, approval: ref("ApprovalItem") }),
        obj({ kind: { const: "resolved" }, agent_id: str, request_id: str, tool_id: str, status: str, approve_all: bool, resolved_by: str }),
      ],
    },
    QuestionPayload: {
      oneOf: [
        obj({ kind: { const: "raised" }, question: ref("QuestionItem") }),
        obj({ kind: { const: "resolved" }, agent_id: str, question_id: str, status: str }),
      ],
    },
    SyncedPayload: obj({ topic: str, replayed: int, resumed: bool, last_event_id: { type: ["string", "null"] } }),
    UnsubscribedPayload: obj({ topic: str, reason: str }),
    MaintenancePayload: maintenance,
    TickPayload: obj({ ts: str }),
    ShutdownPayload: obj({ reason: { const: "gateway shutting down" } }),
  };
  for (const { def, fields } of Object.values(METHODS)) defs[`${def}Params`] = paramsSchema(fields);
  defs.AgentsListResult = obj({ agents: { type: "array", items: ref("AgentItem") } });
  defs.SendResult = obj({ request_id: str, message_id: str, thread_id: str, status: { enum: ["accepted", "duplicate"] } }, ["message_id", "thread_id", "status"]);
  defs.CancelResult = obj({ request_id: str, status: { const: "canceling" } });
  defs.ToolsApproveResult = obj({ approved: bool, success: { const: true } });
  defs.QuestionsAnswerResult = obj({ success: { const: true } });
  defs.EventsGetResult = obj({ events: { type: "array", items: ref("LedgerEvent") }, has_more: bool, next_cursor: str }, ["events", "has_more"]);
  defs.SubscribeResult = obj(
    { topic: str, agents: { type: "array", items: ref("AgentItem") }, approvals: { type: "array", items: ref("ApprovalItem") }, questions: { type: "array", items: ref("QuestionItem") } },
    ["topic"],
  );
  defs.UnsubscribeResult = obj({ topic: str });
  defs.PingResult = obj({ ts: str });
  return { $schema: "https://json-schema.org/draft/2020-12/schema", $id: WS_SCHEMA_ID, title: "coven-gateway WebSocket protocol 1", $defs: defs };
}

/** The whole schema set as served by GET /ws/schema.json, byte-identical for one gateway version, and its ETag. */
export const WS_SCHEMA_JSON: string = JSON.stringify(buildDocument());
export const WS_SCHEMA_ETAG = `"${createHash("sha256").update(WS_SCHEMA_JSON).digest("hex").slice(0, 32)}"`;

// ajv's CommonJS build exposes the class as its default export; under NodeNext it arrives one level down.
const Ajv2020 = ajv2020.Ajv2020;

/** The validators compiled once at startup from the served document. */
export interface WsValidators {
  hello: ValidateFunction;
  params: ReadonlyMap<string, ValidateFunction>;
}

/** Compiles the inbound validators (hello and each method's params) from the one schema document. */
export function compileValidators(): WsValidators {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addSchema(JSON.parse(WS_SCHEMA_JSON) as Schema);
  const get = (def: string): ValidateFunction => {
    const fn = ajv.getSchema(`${WS_SCHEMA_ID}#/$defs/${def}`);
    if (!fn) throw new Error(`schema ${def} missing`);
    return fn;
  };
  const params = new Map<string, ValidateFunction>();
  for (const [method, { def }] of Object.entries(METHODS)) params.set(method, get(`${def}Params`));
  return { hello: get("Hello"), params };
}

/** The hello-error message: the first Ajv error as `<instancePath> <message>`. */
export function firstAjvError(errors: readonly ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  if (!first) return "invalid hello";
  return `${first.instancePath} ${first.message ?? "is invalid"}`.trim();
}

/**
 * The §3 step 8 message of a params failure: the failing field earliest in the method's field order. Missing,
 * null or "" where required: `<field> is required`; wrong type `<field> must be of type <t>`; over the length
 * `<field> too long`; `limit` has its own text.
 */
export function paramsErrorMessage(fields: readonly ParamField[], params: Record<string, unknown>, errors: readonly ErrorObject[]): string {
  const fieldOf = (error: ErrorObject): string =>
    error.keyword === "required" ? String((error.params as { missingProperty: string }).missingProperty) : error.instancePath.split("/")[1] ?? "";
  for (const field of fields) {
    const own = errors.filter((e) => fieldOf(e) === field.name);
    if (own.length === 0) continue;
    const value = params[field.name];
    if (field.isRequired && (value === undefined || value === null || value === "")) return `${field.name} is required`;
    if (field.name === "limit") return "limit must be a positive integer";
    if (own.some((e) => e.keyword === "maxLength")) return `${field.name} too long`;
    const item = own.find((e) => e.instancePath.split("/").length > 2);
    if (item) return `${field.name}[${item.instancePath.split("/")[2]}] must be of type string`;
    return `${field.name} must be of type ${field.type}`;
  }
  return "invalid params";
}
