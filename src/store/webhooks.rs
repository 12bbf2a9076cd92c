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

use crate::domain::ids::BankId;

use super::Conn;
use crate::db::Dialect;
use crate::db::row::{RowExt, list_placeholders, values_placeholders};
use crate::db::types::ts;
use crate::domain::events::EventType;
use crate::domain::webhook::{DisabledReason, Endpoint, EndpointFields};
use crate::error::{AppError, AppResult};

mod control;
mod delivery;
pub use control::*;
pub use delivery::*;

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
        bank_id: r.id("bank_id")?,
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
    bank_id: BankId,
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
    bank_id: Option<BankId>,
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
