//! The mail outbox: rows written in the transaction of the change they report, claimed under a
//! lease by the sender (`mail::outbox`), and settled after each attempt.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Conn;
use crate::db::Db;
use crate::db::row::{RowExt, list_placeholders};
use crate::db::types::ts;
use crate::error::AppResult;

/// Queues a rendered mail; `request` is the JSON it is composed from when sent.
pub async fn insert(
    conn: &mut Conn,
    id: Uuid,
    kind: &str,
    subject: &str,
    request: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO mail_outbox (id, kind, subject, request, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
    )
    .bind(id.to_string())
    .bind(kind)
    .bind(subject)
    .bind(request)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An outbox row as operators and tests see it (no recipient address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Option<OutboxEntry>> {
    let row = sqlx::query(
        "SELECT id, kind, subject, status, attempts, next_attempt_at, last_error, created_at, sent_at \
         FROM mail_outbox WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(OutboxEntry {
        id: r.uuid("id")?,
        kind: r.text("kind")?,
        subject: r.text("subject")?,
        status: r.text("status")?,
        attempts: r.int("attempts")?,
        next_attempt_at: r.ts("next_attempt_at")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.ts("created_at")?,
        sent_at: r.opt_ts("sent_at")?,
    }))
}

/// A claimed row.
pub struct Claimed {
    pub id: Uuid,
    pub kind: String,
    pub attempt: i64,
    pub request: String,
}

const DUE: &str = "status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)";

/// Claims up to `limit` due rows under a lease. A cheap read first, so an idle worker never takes
/// SQLite's write lock.
pub async fn claim(db: &Db, now: DateTime<Utc>, lease: Duration, limit: u32) -> AppResult<Vec<Claimed>> {
    {
        let mut conn = db.pool().acquire().await?;
        let due = sqlx::query(&format!("SELECT id FROM mail_outbox WHERE {DUE} LIMIT 1"))
            .bind(ts(now))
            .fetch_optional(&mut *conn)
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
    }
    let mut tx = db.begin().await?;
    let rows = sqlx::query(&format!(
        "SELECT id, kind, attempts, request FROM mail_outbox WHERE {DUE} ORDER BY next_attempt_at, id LIMIT {limit}{}",
        db.dialect().skip_locked()
    ))
    .bind(ts(now))
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    let claimed = rows
        .iter()
        .map(|r| {
            Ok(Claimed {
                id: r.uuid("id")?,
                kind: r.text("kind")?,
                attempt: r.int("attempts")? + 1,
                request: r.text("request")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
    let sql = format!(
        "UPDATE mail_outbox SET locked_until = $1, attempts = attempts + 1 WHERE id IN ({})",
        list_placeholders(claimed.len(), 2)
    );
    let mut q = sqlx::query(&sql).bind(ts(until));
    for c in &claimed {
        q = q.bind(c.id.to_string());
    }
    q.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// A sent mail; a mail of `redacted_kind` keeps only `redacted_request` of what it was made from.
pub async fn mark_sent(
    conn: &mut Conn,
    id: Uuid,
    now: DateTime<Utc>,
    redacted_kind: &str,
    redacted_request: &str,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE mail_outbox SET status = 'sent', sent_at = $2, locked_until = NULL, last_error = NULL, \
         request = CASE WHEN kind = $3 THEN $4 ELSE request END WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(ts(now))
    .bind(redacted_kind)
    .bind(redacted_request)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A transient failure: the mail is tried again at `at`.
pub async fn schedule_retry(conn: &mut Conn, id: Uuid, at: DateTime<Utc>, error: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE mail_outbox SET next_attempt_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(ts(at))
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A mail given up; redacted like a sent one.
pub async fn mark_failed(
    conn: &mut Conn,
    id: Uuid,
    error: &str,
    redacted_kind: &str,
    redacted_request: &str,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE mail_outbox SET status = 'failed', locked_until = NULL, last_error = $2, \
         request = CASE WHEN kind = $3 THEN $4 ELSE request END WHERE id = $1 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(error)
    .bind(redacted_kind)
    .bind(redacted_request)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
