//! Fanning events out to subscribed endpoints and the dispatcher's side of a delivery: claiming,
//! recording attempts and their outcome, and the endpoints' failure streaks.

use super::*;
use crate::domain::ids::{BankId, FirmId};

// ---------------------------------------------------------------- fan-out

/// An endpoint subscribed to an event type, as the fan-out needs it.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub endpoint_id: Uuid,
    pub bank_id: BankId,
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
            bank_id: r.id("bank_id")?,
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
    pub firm_id: Option<FirmId>,
    /// Whether the firm's consent must still cover the bank when an attempt is made.
    pub consent_required: bool,
    pub body: String,
}

/// Stores the bytes to sign and send for an event (once; a second call is a no-op).
pub async fn insert_message(
    conn: &mut Conn,
    event_id: Uuid,
    event_type: EventType,
    firm_id: Option<FirmId>,
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
    pub firm_id: Option<FirmId>,
    pub consent_required: bool,
    /// `None` once purged.
    pub body: Option<String>,
    pub bank_id: BankId,
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
                firm_id: r.opt_id("firm_id")?,
                consent_required: r.flag("consent_required")?,
                body: r.opt_text("body")?,
                bank_id: r.id("bank_id")?,
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
    firm_ids: &[FirmId],
    now: DateTime<Utc>,
) -> AppResult<HashMap<FirmId, Vec<Option<BankId>>>> {
    let mut out: HashMap<FirmId, Vec<Option<BankId>>> = HashMap::new();
    let mut ids = firm_ids.to_vec();
    ids.sort();
    ids.dedup();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT c.firm_id, c.bank_id FROM consents c WHERE c.firm_id IN ({}) AND {}",
            list_placeholders(chunk.len(), 2),
            crate::store::consents::in_force_sql("c", "$1")
        );
        let mut q = sqlx::query(&sql).bind(ts(now));
        for f in chunk {
            q = q.bind(f.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.entry(r.id("firm_id")?).or_default().push(r.opt_id("bank_id")?);
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
    pub bank_id: BankId,
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
            bank_id: r.id("bank_id")?,
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
