//! Idempotency records for creating POSTs (`Idempotency-Key`). A key is claimed before the work
//! runs, so two concurrent requests with the same key cannot both create.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Conn;
use crate::db::row::RowExt;
use crate::db::types::ts;
use crate::error::{AppError, AppResult, is_unique_violation};

pub enum Claim {
    /// The key is new: do the work, then [`complete`] or [`release`].
    Claimed,
    /// The same request was answered before: replay it.
    Replay { status: u16, body: String },
}

pub async fn claim(
    conn: &mut Conn,
    key_id: Uuid,
    idem_key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> AppResult<Claim> {
    let inserted =
        sqlx::query("INSERT INTO idempotency_keys (key_id, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4)")
            .bind(key_id.to_string())
            .bind(idem_key)
            .bind(fingerprint)
            .bind(ts(now))
            .execute(&mut *conn)
            .await;
    match inserted {
        Ok(_) => return Ok(Claim::Claimed),
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let row = sqlx::query(
        "SELECT fingerprint, status, response_body FROM idempotency_keys WHERE key_id = $1 AND idem_key = $2",
    )
    .bind(key_id.to_string())
    .bind(idem_key)
    .fetch_one(&mut *conn)
    .await?;
    if row.text("fingerprint")? != fingerprint {
        return Err(AppError::Conflict {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used with a different request".into(),
            extra: None,
        });
    }
    match (row.opt_int("status")?, row.opt_text("response_body")?) {
        (Some(status), Some(body)) => Ok(Claim::Replay { status: status as u16, body }),
        _ => Err(AppError::Conflict {
            code: "idempotency_key_in_use",
            detail: "a request with this Idempotency-Key is still being processed".into(),
            extra: None,
        }),
    }
}

pub async fn complete(conn: &mut Conn, key_id: Uuid, idem_key: &str, status: u16, body: &str) -> AppResult<()> {
    sqlx::query("UPDATE idempotency_keys SET status = $3, response_body = $4 WHERE key_id = $1 AND idem_key = $2")
        .bind(key_id.to_string())
        .bind(idem_key)
        .bind(i64::from(status))
        .bind(body)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Forgets a claim whose request failed for a reason a retry may not meet again (5xx).
pub async fn release(conn: &mut Conn, key_id: Uuid, idem_key: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE key_id = $1 AND idem_key = $2 AND status IS NULL")
        .bind(key_id.to_string())
        .bind(idem_key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
