//! Webhook endpoints, their sealed secrets, messages, deliveries and the attempt log.
//!
//! Delivery life cycle: `pending` (with `next_attempt_at`) → claimed by a dispatcher, which sets
//! a lease (`locked_until`, `lock_token`) and commits before sending → the attempt's result is
//! written back under the same `lock_token` → `succeeded`, `pending` again (a retry), or `failed`
//! (schedule used up, endpoint disabled or gone, consent lapsed). A dispatcher that dies leaves
//! its lease behind; once it passes, the delivery is claimable again.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::Dialect;
use crate::db::row::{RowExt, list_placeholders, values_placeholders};
use crate::db::types::ts;
use crate::domain::events::EventType;
use crate::domain::webhook::{DisabledReason, Endpoint, EndpointFields};
use crate::error::{AppError, AppResult};

/// At most this many rotated-out secrets keep signing at once (svix's limit).
pub const MAX_OLD_SECRETS: usize = 10;
/// Longest stored response excerpt, in bytes.
pub const RESPONSE_EXCERPT_BYTES: usize = 4096;

fn sql_err(e: impl std::fmt::Display, what: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("{what}: {e}"))
}

// ---------------------------------------------------------------- endpoints

const ENDPOINT_COLUMNS: &str = "id, bank_id, url, description, enabled, disabled_reason, disabled_at, \
    rate_limit_per_second, max_concurrency, failing_since, created_at, updated_at";

fn endpoint_from_row(r: &AnyRow) -> Result<Endpoint, sqlx::Error> {
    Ok(Endpoint {
        id: r.uuid("id")?,
        bank_id: r.uuid("bank_id")?,
        url: r.text("url")?,
        description: r.text("description")?,
        event_types: Vec::new(),
        product_ids: None,
        enabled: r.flag("enabled")?,
        disabled_reason: r.opt_vocab("disabled_reason")?,
        disabled_at: r.opt_ts("disabled_at")?,
        rate_limit_per_second: u32::try_from(r.int("rate_limit_per_second")?).unwrap_or(1),
        max_concurrency: u32::try_from(r.int("max_concurrency")?).unwrap_or(1),
        failing_since: r.opt_ts("failing_since")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// Fills in event types and product filters for endpoints read without them.
async fn complete(conn: &mut Conn, endpoints: &mut [Endpoint]) -> AppResult<()> {
    if endpoints.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = endpoints.iter().map(|e| e.id.to_string()).collect();
    let list = list_placeholders(ids.len(), 1);
    let sql = format!(
        "SELECT endpoint_id, event_type FROM webhook_endpoint_event_types WHERE endpoint_id IN ({list}) ORDER BY event_type"
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(id.clone());
    }
    let mut types: HashMap<Uuid, Vec<EventType>> = HashMap::new();
    for r in q.fetch_all(&mut *conn).await? {
        let t: EventType = r.text("event_type")?.parse().map_err(|e| sql_err(e, "stored event type"))?;
        types.entry(r.uuid("endpoint_id")?).or_default().push(t);
    }
    let sql = format!(
        "SELECT endpoint_id, product_id FROM webhook_endpoint_products WHERE endpoint_id IN ({list}) ORDER BY product_id"
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(id.clone());
    }
    let mut products: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for r in q.fetch_all(&mut *conn).await? {
        products.entry(r.uuid("endpoint_id")?).or_default().push(r.uuid("product_id")?);
    }
    for e in endpoints {
        let mut t = types.remove(&e.id).unwrap_or_default();
        t.sort();
        e.event_types = t;
        e.product_ids = products.remove(&e.id);
    }
    Ok(())
}

async fn write_filters(conn: &mut Conn, id: Uuid, f: &EndpointFields) -> AppResult<()> {
    sqlx::query("DELETE FROM webhook_endpoint_event_types WHERE endpoint_id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM webhook_endpoint_products WHERE endpoint_id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    if !f.event_types.is_empty() {
        let sql = format!(
            "INSERT INTO webhook_endpoint_event_types (endpoint_id, event_type) VALUES {}",
            values_placeholders(f.event_types.len(), 2, 1)
        );
        let mut q = sqlx::query(&sql);
        for t in &f.event_types {
            q = q.bind(id.to_string()).bind(t.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    if let Some(products) = f.product_ids.as_ref().filter(|p| !p.is_empty()) {
        let sql = format!(
            "INSERT INTO webhook_endpoint_products (endpoint_id, product_id) VALUES {}",
            values_placeholders(products.len(), 2, 1)
        );
        let mut q = sqlx::query(&sql);
        for p in products {
            q = q.bind(id.to_string()).bind(p.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn insert_endpoint(
    conn: &mut Conn,
    bank_id: Uuid,
    f: &EndpointFields,
    sealed_secret: &str,
    now: DateTime<Utc>,
) -> AppResult<Endpoint> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, bank_id, url, description, enabled, rate_limit_per_second, max_concurrency, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id.to_string())
    .bind(bank_id.to_string())
    .bind(f.url.clone())
    .bind(f.description.clone())
    .bind(true)
    .bind(i64::from(f.rate_limit_per_second))
    .bind(i64::from(f.max_concurrency))
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    write_filters(conn, id, f).await?;
    insert_secret(conn, id, sealed_secret, now).await?;
    get_endpoint(conn, id).await?.ok_or_else(|| sql_err("vanished", "endpoint just inserted"))
}

pub async fn get_endpoint(conn: &mut Conn, id: Uuid) -> AppResult<Option<Endpoint>> {
    let row = sqlx::query(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut e = [endpoint_from_row(&row)?];
    complete(conn, &mut e).await?;
    let [e] = e;
    Ok(Some(e))
}

/// Keyset page of endpoints by id; `bank_id: None` lists every bank's (admin).
pub async fn list_endpoints(
    conn: &mut Conn,
    bank_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Endpoint>> {
    let mut f = crate::db::row::Filter::default();
    if let Some(b) = bank_id {
        f.and("bank_id = {}", crate::db::row::Bind::Text(b.to_string()));
    }
    if let Some(a) = after {
        f.and("id > {}", crate::db::row::Bind::Text(a.to_string()));
    }
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints{} ORDER BY id LIMIT {limit}", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let mut out = rows.iter().map(endpoint_from_row).collect::<Result<Vec<_>, _>>()?;
    complete(conn, &mut out).await?;
    Ok(out)
}

pub async fn update_endpoint(conn: &mut Conn, id: Uuid, f: &EndpointFields, now: DateTime<Utc>) -> AppResult<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = $2, description = $3, rate_limit_per_second = $4, max_concurrency = $5, updated_at = $6 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(f.url.clone())
    .bind(f.description.clone())
    .bind(i64::from(f.rate_limit_per_second))
    .bind(i64::from(f.max_concurrency))
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    write_filters(conn, id, f).await
}

/// Removes the endpoint, its secrets, deliveries and attempt log.
pub async fn delete_endpoint(conn: &mut Conn, id: Uuid) -> AppResult<bool> {
    sqlx::query("DELETE FROM webhook_attempts WHERE endpoint_id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    let done =
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(done.rows_affected() > 0)
}

/// Enables (clearing the failure streak) or disables an endpoint. Disabling fails its pending
/// deliveries ("endpoint disabled"); `recover` queues them again once it is enabled. Returns
/// whether the state changed.
pub async fn set_enabled(
    conn: &mut Conn,
    id: Uuid,
    enabled: bool,
    reason: Option<DisabledReason>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let changed = if enabled {
        sqlx::query(
            "UPDATE webhook_endpoints SET enabled = $2, disabled_reason = NULL, disabled_at = NULL, failing_since = NULL, \
             last_failure_at = NULL, updated_at = $3 WHERE id = $1 AND enabled = $4",
        )
        .bind(id.to_string())
        .bind(true)
        .bind(ts(now))
        .bind(false)
        .execute(&mut *conn)
        .await?
    } else {
        sqlx::query(
            "UPDATE webhook_endpoints SET enabled = $2, disabled_reason = $3, disabled_at = $4, updated_at = $4 \
             WHERE id = $1 AND enabled = $5",
        )
        .bind(id.to_string())
        .bind(false)
        .bind(reason.unwrap_or(DisabledReason::Manual).as_str())
        .bind(ts(now))
        .bind(true)
        .execute(&mut *conn)
        .await?
    };
    if !enabled && changed.rows_affected() > 0 {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled', next_attempt_at = NULL, \
             locked_until = NULL, lock_token = NULL WHERE endpoint_id = $1 AND status = 'pending'",
        )
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(changed.rows_affected() > 0)
}

// ---------------------------------------------------------------- secrets

pub async fn insert_secret(conn: &mut Conn, endpoint_id: Uuid, sealed: &str, now: DateTime<Utc>) -> AppResult<()> {
    sqlx::query("INSERT INTO webhook_secrets (id, endpoint_id, sealed, created_at) VALUES ($1, $2, $3, $4)")
        .bind(Uuid::now_v7().to_string())
        .bind(endpoint_id.to_string())
        .bind(sealed.to_owned())
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Makes `sealed` the current secret; the previous one keeps signing until `now + overlap`.
/// Older rotated-out secrets beyond [`MAX_OLD_SECRETS`] stop at once. Returns when the previous
/// secret stops signing.
pub async fn rotate_secret(
    conn: &mut Conn,
    endpoint_id: Uuid,
    sealed: &str,
    overlap: Duration,
    now: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let until = now + overlap;
    sqlx::query("UPDATE webhook_secrets SET expires_at = $2 WHERE endpoint_id = $1 AND expires_at IS NULL")
        .bind(endpoint_id.to_string())
        .bind(ts(until))
        .execute(&mut *conn)
        .await?;
    insert_secret(conn, endpoint_id, sealed, now).await?;
    let live = sqlx::query(
        "SELECT id FROM webhook_secrets WHERE endpoint_id = $1 AND expires_at IS NOT NULL AND expires_at > $2 \
         ORDER BY created_at DESC, id DESC",
    )
    .bind(endpoint_id.to_string())
    .bind(ts(now))
    .fetch_all(&mut *conn)
    .await?;
    for r in live.iter().skip(MAX_OLD_SECRETS) {
        sqlx::query("UPDATE webhook_secrets SET expires_at = $2 WHERE id = $1")
            .bind(r.text("id")?)
            .bind(ts(now))
            .execute(&mut *conn)
            .await?;
    }
    Ok(until)
}

/// The sealed secrets that sign for each endpoint at `now`, the current one first.
pub async fn signing_secrets(
    conn: &mut Conn,
    endpoint_ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, Vec<String>>> {
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    if endpoint_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT endpoint_id, sealed FROM webhook_secrets WHERE endpoint_id IN ({}) \
         AND (expires_at IS NULL OR expires_at > $1) ORDER BY endpoint_id, created_at DESC, id DESC",
        list_placeholders(endpoint_ids.len(), 2)
    );
    let mut q = sqlx::query(&sql).bind(ts(now));
    for id in endpoint_ids {
        q = q.bind(id.to_string());
    }
    for r in q.fetch_all(&mut *conn).await? {
        out.entry(r.uuid("endpoint_id")?).or_default().push(r.text("sealed")?);
    }
    Ok(out)
}

// ---------------------------------------------------------------- fan-out

/// An endpoint subscribed to an event type, as the fan-out needs it.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub endpoint_id: Uuid,
    pub bank_id: Uuid,
    pub enabled: bool,
    pub event_type: EventType,
    /// `None`: every product; otherwise only events naming one of these products (or none).
    pub product_ids: Option<Vec<Uuid>>,
}

/// Every endpoint subscribed to one of `types`, with its product filter (two queries whatever
/// the number of events being fanned out).
pub async fn subscribers(conn: &mut Conn, types: &[EventType]) -> AppResult<Vec<Subscriber>> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT e.id, e.bank_id, e.enabled, t.event_type FROM webhook_endpoints e \
         JOIN webhook_endpoint_event_types t ON t.endpoint_id = e.id WHERE t.event_type IN ({}) ORDER BY e.id",
        list_placeholders(types.len(), 1)
    );
    let mut q = sqlx::query(&sql);
    for t in types {
        q = q.bind(t.as_str());
    }
    let mut out = Vec::new();
    for r in q.fetch_all(&mut *conn).await? {
        out.push(Subscriber {
            endpoint_id: r.uuid("id")?,
            bank_id: r.uuid("bank_id")?,
            enabled: r.flag("enabled")?,
            event_type: r.text("event_type")?.parse().map_err(|e| sql_err(e, "stored event type"))?,
            product_ids: None,
        });
    }
    let mut ids: Vec<Uuid> = out.iter().map(|s| s.endpoint_id).collect();
    ids.dedup();
    let mut products: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT endpoint_id, product_id FROM webhook_endpoint_products WHERE endpoint_id IN ({})",
            list_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            products.entry(r.uuid("endpoint_id")?).or_default().push(r.uuid("product_id")?);
        }
    }
    for s in &mut out {
        s.product_ids = products.get(&s.endpoint_id).cloned();
    }
    Ok(out)
}

/// The bytes to sign and send for one event.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub event_id: Uuid,
    pub event_type: EventType,
    pub firm_id: Option<Uuid>,
    /// Whether the firm's consent must still cover the bank when an attempt is made.
    pub consent_required: bool,
    pub body: String,
}

/// Stores the bytes to sign and send for an event (once; a second call is a no-op).
pub async fn insert_message(
    conn: &mut Conn,
    event_id: Uuid,
    event_type: EventType,
    firm_id: Option<Uuid>,
    consent_required: bool,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let m = NewMessage { event_id, event_type, firm_id, consent_required, body: body.to_owned() };
    insert_messages(conn, std::slice::from_ref(&m), now).await
}

/// [`insert_message`] for many events, with multi-row inserts.
pub async fn insert_messages(conn: &mut Conn, messages: &[NewMessage], now: DateTime<Utc>) -> AppResult<()> {
    for chunk in messages.chunks(500) {
        let sql = format!(
            "INSERT INTO webhook_messages (event_id, event_type, firm_id, consent_required, body, created_at) \
             VALUES {} ON CONFLICT (event_id) DO NOTHING",
            values_placeholders(chunk.len(), 6, 1)
        );
        let mut q = sqlx::query(&sql);
        for m in chunk {
            q = q
                .bind(m.event_id.to_string())
                .bind(m.event_type.as_str())
                .bind(m.firm_id.map(|f| f.to_string()))
                .bind(m.consent_required)
                .bind(m.body.clone())
                .bind(ts(now));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One delivery per `(endpoint, enabled)`: pending and due at `now` for enabled endpoints,
/// `failed` ("endpoint disabled", recoverable) for disabled ones. Existing pairs are kept.
pub async fn insert_deliveries(
    conn: &mut Conn,
    event_id: Uuid,
    targets: &[(Uuid, bool)],
    origin: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    let rows: Vec<(Uuid, Uuid, bool)> = targets.iter().map(|(e, enabled)| (event_id, *e, *enabled)).collect();
    insert_deliveries_many(conn, &rows, origin, now).await
}

/// [`insert_deliveries`] for many events: `(event, endpoint, enabled)`.
pub async fn insert_deliveries_many(
    conn: &mut Conn,
    targets: &[(Uuid, Uuid, bool)],
    origin: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(targets.len());
    for chunk in targets.chunks(500) {
        let sql = format!(
            "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, origin, next_attempt_at, last_error, created_at) \
             VALUES {} ON CONFLICT (event_id, endpoint_id) DO NOTHING",
            values_placeholders(chunk.len(), 8, 1)
        );
        let mut q = sqlx::query(&sql);
        for (event_id, endpoint_id, enabled) in chunk {
            let id = Uuid::now_v7();
            ids.push(id);
            q = q
                .bind(id.to_string())
                .bind(event_id.to_string())
                .bind(endpoint_id.to_string())
                .bind(if *enabled { "pending" } else { "failed" })
                .bind(origin.to_owned())
                .bind(enabled.then(|| ts(now)))
                .bind((!enabled).then(|| "endpoint disabled".to_owned()))
                .bind(ts(now));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(ids)
}

// ---------------------------------------------------------------- dispatching

/// Whether any delivery is due and unclaimed: a read-only probe, so an idle dispatcher never takes
/// SQLite's write lock (nor runs an `UPDATE` on PostgreSQL) just to find nothing.
pub async fn any_due(conn: &mut Conn, now: DateTime<Utc>) -> AppResult<bool> {
    let row = sqlx::query(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
         AND (locked_until IS NULL OR locked_until <= $1) LIMIT 1",
    )
    .bind(ts(now))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Claims up to `limit` due deliveries for this dispatcher until `lease_until`, and returns
/// their ids. Runs on its own (autocommit), so the claim is durable before anything is sent.
pub async fn claim(
    conn: &mut Conn,
    dialect: Dialect,
    token: Uuid,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: u32,
) -> AppResult<Vec<Uuid>> {
    let sql = format!(
        "UPDATE webhook_deliveries SET locked_until = $1, lock_token = $2 WHERE id IN (\
           SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
           AND (locked_until IS NULL OR locked_until <= $3) ORDER BY next_attempt_at LIMIT {limit}{}) \
         RETURNING id",
        dialect.skip_locked()
    );
    let rows =
        sqlx::query(&sql).bind(ts(lease_until)).bind(token.to_string()).bind(ts(now)).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.uuid("id")).collect::<Result<_, _>>().map_err(Into::into)
}

/// What a dispatcher needs to make one attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    pub attempts: u32,
    pub round_attempts: u32,
    pub origin: String,
    pub event_type: String,
    pub firm_id: Option<Uuid>,
    pub consent_required: bool,
    /// `None` once purged.
    pub body: Option<String>,
    pub bank_id: Uuid,
    pub url: String,
    pub enabled: bool,
    pub rate_limit_per_second: u32,
    pub max_concurrency: u32,
}

pub async fn load_claimed(conn: &mut Conn, ids: &[Uuid]) -> AppResult<Vec<Claimed>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT d.id, d.event_id, d.endpoint_id, d.attempts, d.round_attempts, d.origin, m.event_type, m.firm_id, \
         m.consent_required, m.body, e.bank_id, e.url, e.enabled, e.rate_limit_per_second, e.max_concurrency \
         FROM webhook_deliveries d JOIN webhook_messages m ON m.event_id = d.event_id \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id IN ({})",
        list_placeholders(ids.len(), 1)
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id.to_string());
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let to_u32 = |v: i64| u32::try_from(v).unwrap_or(0);
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.uuid("id")?,
                event_id: r.uuid("event_id")?,
                endpoint_id: r.uuid("endpoint_id")?,
                attempts: to_u32(r.int("attempts")?),
                round_attempts: to_u32(r.int("round_attempts")?),
                origin: r.text("origin")?,
                event_type: r.text("event_type")?,
                firm_id: r.opt_uuid("firm_id")?,
                consent_required: r.flag("consent_required")?,
                body: r.opt_text("body")?,
                bank_id: r.uuid("bank_id")?,
                url: r.text("url")?,
                enabled: r.flag("enabled")?,
                rate_limit_per_second: to_u32(r.int("rate_limit_per_second")?).max(1),
                max_concurrency: to_u32(r.int("max_concurrency")?).max(1),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// For each firm, the banks its consent in force covers (`None` in the list: every bank).
pub async fn consent_coverage(
    conn: &mut Conn,
    firm_ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, Vec<Option<Uuid>>>> {
    let mut out: HashMap<Uuid, Vec<Option<Uuid>>> = HashMap::new();
    let mut ids = firm_ids.to_vec();
    ids.sort();
    ids.dedup();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT c.firm_id, c.bank_id FROM consents c WHERE c.firm_id IN ({}) AND {}",
            list_placeholders(chunk.len(), 2),
            super::consents::in_force_sql("c", "$1")
        );
        let mut q = sqlx::query(&sql).bind(ts(now));
        for f in chunk {
            q = q.bind(f.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.entry(r.uuid("firm_id")?).or_default().push(r.opt_uuid("bank_id")?);
        }
    }
    Ok(out)
}

/// One attempt's record, written by the dispatcher after the attempt.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub attempt_number: u32,
    pub origin: String,
    pub attempted_at: DateTime<Utc>,
    pub outcome: &'static str,
    pub status_code: Option<u16>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

pub async fn insert_attempts(conn: &mut Conn, attempts: &[AttemptRecord]) -> AppResult<()> {
    for chunk in attempts.chunks(400) {
        let sql = format!(
            "INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, attempt_number, origin, attempted_at, \
             outcome, status_code, response_body, error, duration_ms, next_attempt_at) VALUES {}",
            values_placeholders(chunk.len(), 13, 1)
        );
        let mut q = sqlx::query(&sql);
        for a in chunk {
            q = q
                .bind(Uuid::now_v7().to_string())
                .bind(a.delivery_id.to_string())
                .bind(a.endpoint_id.to_string())
                .bind(a.event_id.to_string())
                .bind(i64::from(a.attempt_number))
                .bind(a.origin.clone())
                .bind(ts(a.attempted_at))
                .bind(a.outcome)
                .bind(a.status_code.map(i64::from))
                .bind(a.response_body.clone())
                .bind(a.error.clone())
                .bind(a.duration_ms)
                .bind(a.next_attempt_at.map(ts));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Marks deliveries of one claim succeeded, in one statement per 500 rows. `delivered_at` is the
/// latest attempt time among them (they finished within milliseconds of each other; the attempt
/// log keeps each one's exact time). Rows whose lease was taken over are left alone.
pub async fn mark_succeeded(conn: &mut Conn, token: Uuid, done: &[(Uuid, DateTime<Utc>)]) -> AppResult<()> {
    for chunk in done.chunks(500) {
        let Some(at) = chunk.iter().map(|(_, at)| *at).max() else { continue };
        let sql = format!(
            "UPDATE webhook_deliveries SET status = 'succeeded', delivered_at = $1, last_attempt_at = $1, \
             attempts = attempts + 1, round_attempts = round_attempts + 1, last_status_code = NULL, last_error = NULL, \
             next_attempt_at = NULL, locked_until = NULL, lock_token = NULL WHERE lock_token = $2 AND id IN ({})",
            list_placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql).bind(ts(at)).bind(token.to_string());
        for (id, _) in chunk {
            q = q.bind(id.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records a failed attempt: `next` is when to try again (`None`: give up, status `failed`).
#[allow(clippy::too_many_arguments)]
pub async fn mark_failed_attempt(
    conn: &mut Conn,
    id: Uuid,
    token: Uuid,
    at: DateTime<Utc>,
    status_code: Option<u16>,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = $3, last_attempt_at = $4, attempts = attempts + 1, \
         round_attempts = round_attempts + 1, last_status_code = $5, last_error = $6, next_attempt_at = $7, \
         locked_until = NULL, lock_token = NULL WHERE id = $1 AND lock_token = $2",
    )
    .bind(id.to_string())
    .bind(token.to_string())
    .bind(if next.is_some() { "pending" } else { "failed" })
    .bind(ts(at))
    .bind(status_code.map(i64::from))
    .bind(error.to_owned())
    .bind(next.map(ts))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Gives a claimed delivery back without an attempt (e.g. the endpoint is over its rate).
pub async fn release(conn: &mut Conn, id: Uuid, token: Uuid, next: DateTime<Utc>) -> AppResult<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET locked_until = NULL, lock_token = NULL, next_attempt_at = $3 \
         WHERE id = $1 AND lock_token = $2 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(token.to_string())
    .bind(ts(next))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends a claimed delivery without an attempt (consent lapsed, payload purged, endpoint off).
pub async fn abandon(conn: &mut Conn, id: Uuid, token: Uuid, reason: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = $3, next_attempt_at = NULL, locked_until = NULL, \
         lock_token = NULL WHERE id = $1 AND lock_token = $2",
    )
    .bind(id.to_string())
    .bind(token.to_string())
    .bind(reason.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The failure streak and state of an endpoint, for the disable rule.
#[derive(Debug, Clone)]
pub struct EndpointHealth {
    pub bank_id: Uuid,
    pub enabled: bool,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
}

pub async fn endpoint_health(conn: &mut Conn, id: Uuid) -> AppResult<Option<EndpointHealth>> {
    let row =
        sqlx::query("SELECT bank_id, enabled, failing_since, last_failure_at FROM webhook_endpoints WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|r| {
        Ok(EndpointHealth {
            bank_id: r.uuid("bank_id")?,
            enabled: r.flag("enabled")?,
            failing_since: r.opt_ts("failing_since")?,
            last_failure_at: r.opt_ts("last_failure_at")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| e.into())
}

pub async fn set_failure_streak(conn: &mut Conn, id: Uuid, since: DateTime<Utc>, last: DateTime<Utc>) -> AppResult<()> {
    sqlx::query("UPDATE webhook_endpoints SET failing_since = $2, last_failure_at = $3 WHERE id = $1")
        .bind(id.to_string())
        .bind(ts(since))
        .bind(ts(last))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn clear_failure_streaks(conn: &mut Conn, ids: &[Uuid]) -> AppResult<()> {
    for chunk in ids.chunks(500) {
        let sql = format!(
            "UPDATE webhook_endpoints SET failing_since = NULL, last_failure_at = NULL \
             WHERE failing_since IS NOT NULL AND id IN ({})",
            list_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- control

/// Queues the deliveries of one message again (resend): to `endpoint` or to every endpoint of
/// `bank` (`None`: any bank, admin) that had it. Returns the deliveries queued.
pub async fn requeue_message(
    conn: &mut Conn,
    event_id: Uuid,
    bank: Option<Uuid>,
    endpoint: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    use crate::db::row::{Bind, Filter};
    let mut f = Filter::default();
    let now_p = f.bind(Bind::Text(ts(now)));
    f.and("d.event_id = {}", Bind::Text(event_id.to_string()));
    if let Some(b) = bank {
        f.and("e.bank_id = {}", Bind::Text(b.to_string()));
    }
    if let Some(ep) = endpoint {
        f.and("d.endpoint_id = {}", Bind::Text(ep.to_string()));
    }
    f.and("e.enabled = {}", Bind::Bool(true));
    let sql = format!(
        "UPDATE webhook_deliveries SET status = 'pending', origin = 'resend', next_attempt_at = {now_p}, round_attempts = 0, \
         locked_until = NULL, lock_token = NULL WHERE id IN (SELECT d.id FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id{}) RETURNING id",
        f.where_sql()
    );
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.uuid("id")).collect::<Result<_, _>>().map_err(Into::into)
}

/// Whether a message with this id exists (and has not been purged), and the deliveries it has
/// to endpoints of `bank` (`None`: any): `(delivery, endpoint, endpoint enabled)`.
pub async fn message_deliveries(
    conn: &mut Conn,
    event_id: Uuid,
    bank: Option<Uuid>,
) -> AppResult<Option<Vec<(Uuid, Uuid, bool)>>> {
    let m = sqlx::query("SELECT body FROM webhook_messages WHERE event_id = $1")
        .bind(event_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match m {
        None => return Ok(None),
        Some(r) if r.opt_text("body")?.is_none() => return Ok(None),
        Some(_) => {}
    }
    let rows = sqlx::query(
        "SELECT d.id, d.endpoint_id, e.enabled, e.bank_id FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.event_id = $1 ORDER BY d.id",
    )
    .bind(event_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        if bank.is_none_or(|b| r.uuid("bank_id").is_ok_and(|x| x == b)) {
            out.push((r.uuid("id")?, r.uuid("endpoint_id")?, r.flag("enabled")?));
        }
    }
    Ok(Some(out))
}

/// Queues again every failed delivery of an endpoint created in `[since, until)`, oldest first,
/// at most `cap`. Returns how many.
pub async fn recover(
    conn: &mut Conn,
    endpoint_id: Uuid,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    cap: u32,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let sql = format!(
        "UPDATE webhook_deliveries SET status = 'pending', origin = 'recover', next_attempt_at = $1, round_attempts = 0, \
         locked_until = NULL, lock_token = NULL WHERE id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $2 \
         AND status = 'failed' AND created_at >= $3 AND created_at < $4 ORDER BY created_at LIMIT {cap})"
    );
    let done = sqlx::query(&sql)
        .bind(ts(now))
        .bind(endpoint_id.to_string())
        .bind(ts(since))
        .bind(ts(until))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// One line of `GET /v1/webhook-endpoints/{id}/attempts`.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub event_id: Uuid,
    pub event_type: Option<String>,
    pub attempt_number: u32,
    pub origin: String,
    pub attempted_at: DateTime<Utc>,
    pub outcome: String,
    pub status_code: Option<u16>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivery_status: Option<String>,
}

/// An endpoint's attempts, newest first (keyset: ids below `before`).
pub async fn list_attempts(
    conn: &mut Conn,
    endpoint_id: Uuid,
    before: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<AttemptRow>> {
    use crate::db::row::{Bind, Filter};
    let mut f = Filter::default();
    f.and("a.endpoint_id = {}", Bind::Text(endpoint_id.to_string()));
    if let Some(b) = before {
        f.and("a.id < {}", Bind::Text(b.to_string()));
    }
    let sql = format!(
        "SELECT a.id, a.delivery_id, a.event_id, a.attempt_number, a.origin, a.attempted_at, a.outcome, a.status_code, \
         a.response_body, a.error, a.duration_ms, a.next_attempt_at, m.event_type, d.status AS delivery_status \
         FROM webhook_attempts a LEFT JOIN webhook_deliveries d ON d.id = a.delivery_id \
         LEFT JOIN webhook_messages m ON m.event_id = a.event_id{} ORDER BY a.id DESC LIMIT {limit}",
        f.where_sql()
    );
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(AttemptRow {
                id: r.uuid("id")?,
                delivery_id: r.uuid("delivery_id")?,
                event_id: r.uuid("event_id")?,
                event_type: r.opt_text("event_type")?,
                attempt_number: u32::try_from(r.int("attempt_number")?).unwrap_or(0),
                origin: r.text("origin")?,
                attempted_at: r.ts("attempted_at")?,
                outcome: r.text("outcome")?,
                status_code: r.opt_int("status_code")?.and_then(|c| u16::try_from(c).ok()),
                response_body: r.opt_text("response_body")?,
                error: r.opt_text("error")?,
                duration_ms: r.int("duration_ms")?,
                next_attempt_at: r.opt_ts("next_attempt_at")?,
                delivery_status: r.opt_text("delivery_status")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Pending deliveries (to enabled endpoints or not) and the oldest due one's `next_attempt_at`.
pub async fn queue_stats(conn: &mut Conn, now: DateTime<Utc>) -> AppResult<(i64, Option<DateTime<Utc>>)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS depth, MIN(CASE WHEN next_attempt_at <= $1 THEN next_attempt_at END) AS oldest_due \
         FROM webhook_deliveries WHERE status = 'pending'",
    )
    .bind(ts(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.int("depth")?, row.opt_ts("oldest_due")?))
}

/// What one purge round removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub messages: u64,
    pub attempts: u64,
    pub secrets: u64,
}

/// Deletes messages (payloads, with their deliveries) and attempts older than `cutoff`, at most
/// `limit` of each, and secrets whose overlap ended. Messages that still have a pending
/// delivery are kept until it ends.
pub async fn purge(conn: &mut Conn, cutoff: DateTime<Utc>, now: DateTime<Utc>, limit: u32) -> AppResult<Purged> {
    let sql = format!(
        "DELETE FROM webhook_attempts WHERE id IN (SELECT id FROM webhook_attempts WHERE attempted_at < $1 LIMIT {limit})"
    );
    let attempts = sqlx::query(&sql).bind(ts(cutoff)).execute(&mut *conn).await?.rows_affected();
    let sql = format!(
        "DELETE FROM webhook_messages WHERE event_id IN (SELECT m.event_id FROM webhook_messages m WHERE m.created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = m.event_id AND d.status = 'pending') LIMIT {limit})"
    );
    let messages = sqlx::query(&sql).bind(ts(cutoff)).execute(&mut *conn).await?.rows_affected();
    let secrets = sqlx::query("DELETE FROM webhook_secrets WHERE expires_at IS NOT NULL AND expires_at <= $1")
        .bind(ts(now))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(Purged { messages, attempts, secrets })
}
