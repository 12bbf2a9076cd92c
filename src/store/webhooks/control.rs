//! What the office and the banks do to deliveries by hand (requeue, recover, read the attempt
//! log) and the housekeeping that purges old rows.

use super::*;

// ---------------------------------------------------------------- control

/// Queues the deliveries of one message again (resend): to `endpoint` or to every endpoint of
/// `bank` (`None`: any bank, admin) that had it. Returns the deliveries queued.
pub async fn requeue_message(
    conn: &mut Conn,
    event_id: Uuid,
    bank: Option<BankId>,
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
    bank: Option<BankId>,
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
        if bank.is_none_or(|b| r.id::<BankId>("bank_id").is_ok_and(|x| x == b)) {
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

/// Fails the deliveries of a disabled endpoint that are waiting and not claimed by a sender.
pub async fn fail_pending_deliveries(conn: &mut Conn, endpoint_id: Uuid) -> AppResult<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled', next_attempt_at = NULL \
         WHERE endpoint_id = $1 AND status = 'pending' AND lock_token IS NULL",
    )
    .bind(endpoint_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
