//! The `Idempotency-Key` protocol of creating requests: the key is claimed before the work runs
//! (so two concurrent requests cannot both create), then completed with the answer to replay, or
//! released so that a retry runs. Each step is its own short statement outside the work's
//! transaction, so a failed request still leaves its claim settled.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Db;
use crate::error::AppResult;
use crate::store::idempotency as store;
pub use crate::store::idempotency::Claim;

/// Claims `idem_key` for the caller's key, or finds the answer stored for the same request.
#[tracing::instrument(skip_all, fields(key_id = %key_id))]
pub async fn claim(db: &Db, key_id: Uuid, idem_key: &str, fingerprint: &str, now: DateTime<Utc>) -> AppResult<Claim> {
    let mut conn = db.pool().acquire().await?;
    store::claim(&mut conn, key_id, idem_key, fingerprint, now).await
}

/// Stores the answer a replay of the request receives.
pub async fn complete(db: &Db, key_id: Uuid, idem_key: &str, status: u16, body: &str) -> AppResult<()> {
    let mut conn = db.pool().acquire().await?;
    store::complete(&mut conn, key_id, idem_key, status, body).await
}

/// Gives the key up, so that the same request may be sent again and run.
pub async fn release(db: &Db, key_id: Uuid, idem_key: &str) -> AppResult<()> {
    let mut conn = db.pool().acquire().await?;
    store::release(&mut conn, key_id, idem_key).await
}
