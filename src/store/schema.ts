// ABOUTME: The Kysely Database type: one table interface per SQLite table of shared/spec/store.md §2–§4.
// ABOUTME: Row types mirror the columns exactly (snake_case); repositories map them to domain records.
import type { ColumnType, Generated } from "kysely";

/** threads: one row per conversation thread (store.md §2). */
export interface ThreadRow {
  id: string;
  frontend_name: string;
  external_id: string;
  agent_id: string;
  created_at: string;
  updated_at: string;
}

export type LedgerDirection = "inbound_to_agent" | "outbound_from_agent";
export type LedgerEventType = "message" | "tool_call" | "tool_result" | "system" | "error";

/** ledger_events: the append-only conversation ledger; `seq` is the order and the cursor. */
export interface LedgerEventRow {
  seq: Generated<number>;
  event_id: string;
  conversation_key: string;
  thread_id: string | null;
  request_id: string | null;
  direction: LedgerDirection;
  author: string;
  timestamp: string;
  type: LedgerEventType;
  text: string | null;
  raw_transport: string | null;
  raw_payload_ref: string | null;
  actor_principal_id: string | null;
  actor_member_id: string | null;
}

/** message_usage: one row per agent `usage` event. */
export interface MessageUsageRow {
  id: string;
  thread_id: string;
  message_id: string | null;
  request_id: string;
  agent_id: string;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  cache_read_tokens: Generated<number>;
  cache_write_tokens: Generated<number>;
  thinking_tokens: Generated<number>;
  created_at: string;
  /** Priced cost in millionths of `costs.currency` (migration 0003); NULL when unpriced or written before it. */
  cost_micros: ColumnType<number | null, number | null | undefined, number | null>;
}

/** settings (migration 0003): small gateway-wide state that survives a restart, e.g. `maintenance`. */
export interface SettingsRow {
  key: string;
  value_json: string;
  updated_at: string;
}

export type ToolApprovalStatus = "pending" | "approved" | "denied" | "expired" | "canceled";

/** tool_approvals: approvals requested by agents, owned by the gateway. */
export interface ToolApprovalRow {
  id: string;
  agent_id: string;
  principal_id: string | null;
  request_id: string;
  thread_id: string | null;
  tool_id: string;
  tool_name: string;
  input_json: string;
  status: Generated<ToolApprovalStatus>;
  approve_all: Generated<number>;
  created_at: string;
  expires_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
}

export type UserQuestionStatus = "pending" | "answered" | "expired" | "canceled";

/** user_questions: persisted `ask_user` questions. */
export interface UserQuestionRow {
  question_id: string;
  agent_id: string;
  question: string;
  options_json: string;
  multi_select: Generated<number>;
  header: string | null;
  timeout_seconds: number;
  status: Generated<UserQuestionStatus>;
  created_at: string;
  expires_at: string;
  answered_at: string | null;
  answered_by: string | null;
  answer_json: string | null;
}

/** idempotency_keys: send dedupe rows, PK (scope, key), 24 h lifetime (store.md §7). */
export interface IdempotencyKeyRow {
  scope: string;
  key: string;
  request_hash: string;
  message_id: string;
  thread_id: string;
  request_id: string | null;
  created_at: string;
  expires_at: string;
}

export type PrincipalType = "client" | "agent" | "pack";
export type PrincipalStatus = "pending" | "approved" | "revoked" | "offline" | "online";

/** principals: clients, agents and packs known to the gateway. */
export interface PrincipalRow {
  principal_id: string;
  type: PrincipalType;
  pubkey_fingerprint: string | null;
  display_name: string;
  status: PrincipalStatus;
  created_at: string;
  last_seen: string | null;
  metadata_json: string | null;
}

export type RoleSubjectType = "principal" | "member";
export type RoleName = "owner" | "admin" | "member" | "leader";

/** roles: role grants, PK (subject_type, subject_id, role). */
export interface RoleRow {
  subject_type: RoleSubjectType;
  subject_id: string;
  role: RoleName;
  created_at: string;
}

export type AuditAction =
  | "approve_principal"
  | "revoke_principal"
  | "grant_capability"
  | "revoke_capability"
  | "create_binding"
  | "update_binding"
  | "delete_binding"
  | "create_token"
  | "create_principal"
  | "delete_principal"
  | "approve_tool"
  | "answer_question"
  | "create_secret"
  | "update_secret"
  | "delete_secret"
  | "approve_link"
  | "create_invite"
  | "guard_match"
  | "budget_refused"
  | "budget_warning"
  | "set_maintenance"
  | "mint_pair_token"
  | "pair_enroll";

/** audit_log: append-only record of state changes, written in the same transaction as the change. */
export interface AuditLogRow {
  audit_id: string;
  actor_principal_id: string;
  actor_member_id: string | null;
  action: AuditAction;
  target_type: string;
  target_id: string;
  ts: string;
  detail_json: string | null;
}

/** bindings: (frontend, channel_id) → agent principal. */
export interface BindingRow {
  binding_id: string;
  frontend: string;
  channel_id: string;
  agent_id: string;
  working_dir: Generated<string>;
  created_at: string;
  created_by: string | null;
}

export type LinkCodeStatus = "pending" | "approved" | "expired";

/** link_codes: device-linking codes approved in the web admin. */
export interface LinkCodeRow {
  id: string;
  code: string;
  fingerprint: string;
  device_name: string;
  status: Generated<LinkCodeStatus>;
  created_at: string;
  expires_at: string;
  approved_by: string | null;
  approved_at: string | null;
  principal_id: string | null;
  token: string | null;
}

/** pair_tokens (migration 0004): single-use QR pairing tokens, stored only as their SHA-256 (lowercase hex). */
export interface PairTokenRow {
  id: string;
  token_hash: string;
  /** admin_users.id of the admin who minted it. */
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  principal_id: string | null;
}

/** admin_users: web admin accounts. */
export interface AdminUserRow {
  id: string;
  username: string;
  password_hash: string | null;
  display_name: string;
  created_at: string;
}

/** admin_sessions: web admin login sessions (7 days). */
export interface AdminSessionRow {
  id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

/** admin_invites: one-time web admin invite tokens. */
export interface AdminInviteRow {
  id: string;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  used_by: string | null;
}

/** webauthn_credentials: passkeys of web admin users. */
export interface WebauthnCredentialRow {
  id: string;
  user_id: string;
  credential_id: Buffer;
  public_key: Buffer;
  attestation_type: string | null;
  transports: string | null;
  sign_count: Generated<number>;
  created_at: string;
}

/** log_entries: builtin pack log lines. */
export interface LogEntryRow {
  id: string;
  agent_id: string;
  message: string;
  tags: string | null;
  created_at: string;
}

export type TodoStatus = "pending" | "in_progress" | "completed";
export type TodoPriority = "low" | "medium" | "high";

/** todos: builtin pack todo items. */
export interface TodoRow {
  id: string;
  agent_id: string;
  description: string;
  status: Generated<TodoStatus>;
  priority: Generated<TodoPriority>;
  notes: string | null;
  due_date: string | null;
  created_at: string;
  updated_at: string;
}

/** bbs_posts: builtin pack bulletin board posts (thread_id NULL = top-level). */
export interface BbsPostRow {
  id: string;
  agent_id: string;
  thread_id: string | null;
  subject: string | null;
  content: string;
  created_at: string;
}

/** agent_mail: builtin pack agent-to-agent mail. */
export interface AgentMailRow {
  id: string;
  from_agent_id: string;
  to_agent_id: string;
  subject: string;
  content: string;
  read_at: string | null;
  created_at: string;
}

/** agent_notes: builtin pack key/value notes, UNIQUE (agent_id, key). */
export interface AgentNoteRow {
  id: string;
  agent_id: string;
  key: string;
  value: string;
  created_at: string;
  updated_at: string;
}

/** secrets: env-var secrets, global (agent_id NULL) or per agent. */
export interface SecretRow {
  id: string;
  key: string;
  value: string;
  agent_id: string | null;
  created_at: string;
  updated_at: string;
  created_by: string | null;
}

/** The whole database as Kysely sees it. */
export interface Database {
  threads: ThreadRow;
  ledger_events: LedgerEventRow;
  message_usage: MessageUsageRow;
  settings: SettingsRow;
  tool_approvals: ToolApprovalRow;
  user_questions: UserQuestionRow;
  idempotency_keys: IdempotencyKeyRow;
  principals: PrincipalRow;
  roles: RoleRow;
  audit_log: AuditLogRow;
  bindings: BindingRow;
  link_codes: LinkCodeRow;
  admin_users: AdminUserRow;
  admin_sessions: AdminSessionRow;
  admin_invites: AdminInviteRow;
  webauthn_credentials: WebauthnCredentialRow;
  log_entries: LogEntryRow;
  todos: TodoRow;
  bbs_posts: BbsPostRow;
  agent_mail: AgentMailRow;
  agent_notes: AgentNoteRow;
  secrets: SecretRow;
  pair_tokens: PairTokenRow;
}
