// ABOUTME: Migration 0001: creates every table, constraint and index of shared/spec/store.md §2–§4.
// ABOUTME: Released migrations are frozen; later schema changes go into new numbered files.
import { sql, type Kysely, type RawBuilder } from "kysely";

/** `<column> IN ('a', 'b', …)` with the values inlined (DDL cannot take parameters). */
function oneOf(column: string, values: readonly string[]): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

/** `<column> IN (0, 1)`: the store's boolean convention. */
function isBool(column: string): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(column)} in (0, 1)`;
}

/** `<column> >= 0`. */
function nonNegative(column: string): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(column)} >= 0`;
}

async function createConversationTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("threads")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("frontend_name", "text", (c) => c.notNull())
    .addColumn("external_id", "text", (c) => c.notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("threads_frontend_external_unique", ["frontend_name", "external_id"])
    .execute();

  await db.schema
    .createTable("ledger_events")
    .addColumn("seq", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("event_id", "text", (c) => c.notNull().unique())
    .addColumn("conversation_key", "text", (c) => c.notNull())
    .addColumn("thread_id", "text", (c) => c.references("threads.id"))
    .addColumn("request_id", "text")
    .addColumn("direction", "text", (c) => c.notNull().check(oneOf("direction", ["inbound_to_agent", "outbound_from_agent"])))
    .addColumn("author", "text", (c) => c.notNull())
    .addColumn("timestamp", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) =>
      c.notNull().check(oneOf("type", ["message", "tool_call", "tool_result", "system", "error"])),
    )
    .addColumn("text", "text")
    .addColumn("raw_transport", "text")
    .addColumn("raw_payload_ref", "text")
    .addColumn("actor_principal_id", "text")
    .addColumn("actor_member_id", "text")
    .execute();
  await db.schema.createIndex("ledger_events_conversation_seq_idx").on("ledger_events").columns(["conversation_key", "seq"]).execute();
  await db.schema
    .createIndex("ledger_events_thread_seq_idx")
    .on("ledger_events")
    .columns(["thread_id", "seq"])
    .where(sql<boolean>`thread_id is not null`)
    .execute();
  await db.schema
    .createIndex("ledger_events_request_idx")
    .on("ledger_events")
    .column("request_id")
    .where(sql<boolean>`request_id is not null`)
    .execute();
  await db.schema.createIndex("ledger_events_actor_principal_idx").on("ledger_events").column("actor_principal_id").execute();
  await db.schema.createIndex("ledger_events_timestamp_idx").on("ledger_events").column("timestamp").execute();

  let usage = db.schema
    .createTable("message_usage")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("thread_id", "text", (c) => c.notNull().references("threads.id"))
    .addColumn("message_id", "text")
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("agent_id", "text", (c) => c.notNull());
  for (const col of ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "thinking_tokens"]) {
    usage = usage.addColumn(col, "integer", (c) => c.notNull().defaultTo(0).check(nonNegative(col)));
  }
  await usage.addColumn("created_at", "text", (c) => c.notNull()).execute();
  for (const col of ["thread_id", "agent_id", "created_at", "request_id"]) {
    await db.schema.createIndex(`message_usage_${col}_idx`).on("message_usage").column(col).execute();
  }

  await db.schema
    .createTable("tool_approvals")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("principal_id", "text")
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("thread_id", "text", (c) => c.references("threads.id"))
    .addColumn("tool_id", "text", (c) => c.notNull())
    .addColumn("tool_name", "text", (c) => c.notNull())
    .addColumn("input_json", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c.notNull().defaultTo("pending").check(oneOf("status", ["pending", "approved", "denied", "expired", "canceled"])),
    )
    .addColumn("approve_all", "integer", (c) => c.notNull().defaultTo(0).check(isBool("approve_all")))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("resolved_at", "text")
    .addColumn("resolved_by", "text")
    .execute();
  await db.schema
    .createIndex("tool_approvals_pending_unique")
    .unique()
    .on("tool_approvals")
    .columns(["agent_id", "request_id", "tool_id"])
    .where(sql<boolean>`status = 'pending'`)
    .execute();
  await db.schema.createIndex("tool_approvals_agent_tool_status_idx").on("tool_approvals").columns(["agent_id", "tool_id", "status"]).execute();
  await db.schema.createIndex("tool_approvals_status_expires_idx").on("tool_approvals").columns(["status", "expires_at"]).execute();

  await db.schema
    .createTable("user_questions")
    .addColumn("question_id", "text", (c) => c.primaryKey().notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("question", "text", (c) => c.notNull())
    .addColumn("options_json", "text", (c) => c.notNull())
    .addColumn("multi_select", "integer", (c) => c.notNull().defaultTo(0).check(isBool("multi_select")))
    .addColumn("header", "text")
    .addColumn("timeout_seconds", "integer", (c) => c.notNull().check(sql`timeout_seconds between 1 and 300`))
    .addColumn("status", "text", (c) =>
      c.notNull().defaultTo("pending").check(oneOf("status", ["pending", "answered", "expired", "canceled"])),
    )
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("answered_at", "text")
    .addColumn("answered_by", "text")
    .addColumn("answer_json", "text")
    .execute();
  await db.schema.createIndex("user_questions_agent_status_idx").on("user_questions").columns(["agent_id", "status"]).execute();
  await db.schema.createIndex("user_questions_status_expires_idx").on("user_questions").columns(["status", "expires_at"]).execute();

  await db.schema
    .createTable("idempotency_keys")
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("request_hash", "text", (c) => c.notNull())
    .addColumn("message_id", "text", (c) => c.notNull())
    .addColumn("thread_id", "text", (c) => c.notNull())
    .addColumn("request_id", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pk", ["scope", "key"])
    .execute();
  await db.schema.createIndex("idempotency_keys_expires_idx").on("idempotency_keys").column("expires_at").execute();
}

async function createIdentityTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("principals")
    .addColumn("principal_id", "text", (c) => c.primaryKey().notNull())
    .addColumn("type", "text", (c) => c.notNull().check(oneOf("type", ["client", "agent", "pack"])))
    .addColumn("pubkey_fingerprint", "text", (c) =>
      c.check(sql`length(pubkey_fingerprint) = 64 and pubkey_fingerprint not glob '*[^0-9a-f]*'`),
    )
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c.notNull().check(oneOf("status", ["pending", "approved", "revoked", "offline", "online"])),
    )
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("last_seen", "text")
    .addColumn("metadata_json", "text", (c) => c.check(sql`length(metadata_json) <= 65536`))
    .execute();
  await db.schema
    .createIndex("principals_fingerprint_unique")
    .unique()
    .on("principals")
    .column("pubkey_fingerprint")
    .where(sql<boolean>`pubkey_fingerprint is not null`)
    .execute();
  await db.schema.createIndex("principals_status_idx").on("principals").column("status").execute();
  await db.schema.createIndex("principals_type_idx").on("principals").column("type").execute();

  await db.schema
    .createTable("roles")
    .addColumn("subject_type", "text", (c) => c.notNull().check(oneOf("subject_type", ["principal", "member"])))
    .addColumn("subject_id", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull().check(oneOf("role", ["owner", "admin", "member", "leader"])))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("roles_pk", ["subject_type", "subject_id", "role"])
    .execute();
  await db.schema.createIndex("roles_subject_idx").on("roles").columns(["subject_type", "subject_id"]).execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("audit_id", "text", (c) => c.primaryKey().notNull())
    .addColumn("actor_principal_id", "text", (c) => c.notNull())
    .addColumn("actor_member_id", "text")
    .addColumn("action", "text", (c) =>
      c.notNull().check(
        oneOf("action", [
          "approve_principal",
          "revoke_principal",
          "grant_capability",
          "revoke_capability",
          "create_binding",
          "update_binding",
          "delete_binding",
          "create_token",
          "create_principal",
          "delete_principal",
          "approve_tool",
          "answer_question",
          "create_secret",
          "update_secret",
          "delete_secret",
          "approve_link",
          "create_invite",
        ]),
      ),
    )
    .addColumn("target_type", "text", (c) => c.notNull())
    .addColumn("target_id", "text", (c) => c.notNull())
    .addColumn("ts", "text", (c) => c.notNull())
    .addColumn("detail_json", "text")
    .execute();
  await db.schema.createIndex("audit_log_ts_idx").on("audit_log").column("ts").execute();
  await db.schema.createIndex("audit_log_actor_idx").on("audit_log").column("actor_principal_id").execute();
  await db.schema.createIndex("audit_log_target_idx").on("audit_log").columns(["target_type", "target_id"]).execute();

  await db.schema
    .createTable("bindings")
    .addColumn("binding_id", "text", (c) => c.primaryKey().notNull())
    .addColumn("frontend", "text", (c) => c.notNull())
    .addColumn("channel_id", "text", (c) => c.notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("working_dir", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addUniqueConstraint("bindings_frontend_channel_unique", ["frontend", "channel_id"])
    .execute();
  await db.schema.createIndex("bindings_frontend_idx").on("bindings").column("frontend").execute();
  await db.schema.createIndex("bindings_agent_idx").on("bindings").column("agent_id").execute();
}

async function createWebAdminTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("admin_users")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("username", "text", (c) => c.notNull().unique())
    .addColumn("password_hash", "text")
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("admin_sessions")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("admin_users.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("admin_sessions_user_idx").on("admin_sessions").column("user_id").execute();
  await db.schema.createIndex("admin_sessions_expires_idx").on("admin_sessions").column("expires_at").execute();

  await db.schema
    .createTable("admin_invites")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("created_by", "text", (c) => c.references("admin_users.id"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .addColumn("used_by", "text", (c) => c.references("admin_users.id"))
    .execute();
  await db.schema.createIndex("admin_invites_expires_idx").on("admin_invites").column("expires_at").execute();

  await db.schema
    .createTable("webauthn_credentials")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("admin_users.id").onDelete("cascade"))
    .addColumn("credential_id", "blob", (c) => c.notNull().unique())
    .addColumn("public_key", "blob", (c) => c.notNull())
    .addColumn("attestation_type", "text")
    .addColumn("transports", "text")
    .addColumn("sign_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("webauthn_credentials_user_idx").on("webauthn_credentials").column("user_id").execute();

  // link_codes references admin_users and principals, so it comes after both.
  await db.schema
    .createTable("link_codes")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("code", "text", (c) => c.notNull().unique())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("device_name", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c.notNull().defaultTo("pending").check(oneOf("status", ["pending", "approved", "expired"])),
    )
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("approved_by", "text", (c) => c.references("admin_users.id"))
    .addColumn("approved_at", "text")
    .addColumn("principal_id", "text", (c) => c.references("principals.principal_id").onDelete("set null"))
    .addColumn("token", "text")
    .execute();
  await db.schema.createIndex("link_codes_expires_idx").on("link_codes").column("expires_at").execute();
  await db.schema.createIndex("link_codes_status_idx").on("link_codes").column("status").execute();
}

async function createPackTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("log_entries")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("tags", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("log_entries_agent_idx").on("log_entries").column("agent_id").execute();
  await db.schema.createIndex("log_entries_created_idx").on("log_entries").column("created_at").execute();

  await db.schema
    .createTable("todos")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c.notNull().defaultTo("pending").check(oneOf("status", ["pending", "in_progress", "completed"])),
    )
    .addColumn("priority", "text", (c) =>
      c.notNull().defaultTo("medium").check(oneOf("priority", ["low", "medium", "high"])),
    )
    .addColumn("notes", "text")
    .addColumn("due_date", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("todos_agent_idx").on("todos").column("agent_id").execute();
  await db.schema.createIndex("todos_status_idx").on("todos").column("status").execute();

  await db.schema
    .createTable("bbs_posts")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("thread_id", "text")
    .addColumn("subject", "text")
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("bbs_posts_thread_idx").on("bbs_posts").column("thread_id").execute();
  await db.schema.createIndex("bbs_posts_created_idx").on("bbs_posts").column("created_at").execute();

  await db.schema
    .createTable("agent_mail")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("from_agent_id", "text", (c) => c.notNull())
    .addColumn("to_agent_id", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("read_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("agent_mail_to_idx").on("agent_mail").column("to_agent_id").execute();
  await db.schema.createIndex("agent_mail_to_read_idx").on("agent_mail").columns(["to_agent_id", "read_at"]).execute();

  await db.schema
    .createTable("agent_notes")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("agent_notes_agent_key_unique", ["agent_id", "key"])
    .execute();

  await db.schema
    .createTable("secrets")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("agent_id", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .execute();
  await db.schema
    .createIndex("secrets_global_key_unique")
    .unique()
    .on("secrets")
    .column("key")
    .where(sql<boolean>`agent_id is null`)
    .execute();
  await db.schema
    .createIndex("secrets_agent_key_unique")
    .unique()
    .on("secrets")
    .columns(["key", "agent_id"])
    .where(sql<boolean>`agent_id is not null`)
    .execute();
  await db.schema.createIndex("secrets_agent_idx").on("secrets").column("agent_id").execute();
}

/** Creates the whole v1 schema. */
export async function up(db: Kysely<any>): Promise<void> {
  await createConversationTables(db);
  await createIdentityTables(db);
  await createWebAdminTables(db);
  await createPackTables(db);
}

/** Drops every table created by `up`, children before parents. Indexes go with their tables. */
export async function down(db: Kysely<any>): Promise<void> {
  const tables = [
    "secrets",
    "agent_notes",
    "agent_mail",
    "bbs_posts",
    "todos",
    "log_entries",
    "link_codes",
    "webauthn_credentials",
    "admin_invites",
    "admin_sessions",
    "admin_users",
    "bindings",
    "audit_log",
    "roles",
    "principals",
    "idempotency_keys",
    "user_questions",
    "tool_approvals",
    "message_usage",
    "ledger_events",
    "threads",
  ];
  for (const table of tables) await db.schema.dropTable(table).execute();
}
