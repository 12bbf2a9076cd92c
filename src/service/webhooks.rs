//! A bank's webhook endpoints as the bank (or the office) manages them: list, the attempt log,
//! test ping, secret rotation. The API and the pages call these with the caller's principal.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::Config;
use crate::db::Db;
use crate::domain::access::{Principal, Role};
use crate::error::{AppError, AppResult};
use crate::store::Conn;
use crate::store::webhooks as store;
use crate::webhooks::endpoint::Endpoint;
use crate::webhooks::outbox::webhook_id;
use crate::webhooks::payload::EventEnvelope;
use crate::webhooks::signing::WebhookSecret;
use crate::webhooks::{dispatcher, settings};

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new `whsec_…` secret, shown only in this answer.
    pub secret: String,
    /// Until then every delivery carries signatures by both the previous and the new secret.
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attempt {
    pub id: Uuid,
    pub delivery_id: Uuid,
    /// The `webhook-id` (`evt_…`), the same on every attempt of the event.
    pub event_id: String,
    pub event_type: Option<String>,
    /// 1 for the first attempt of this delivery.
    pub attempt_number: u32,
    /// What queued it: `event`, `test`, `resend` or `recover`.
    pub origin: String,
    pub attempted_at: DateTime<Utc>,
    /// `success`, `http_error`, `redirect`, `gone`, `rate_limited`, `timeout`, `connection_error`
    /// or `refused` (the SSRF guard would not connect).
    pub outcome: String,
    pub status_code: Option<u16>,
    /// The start of the response body (at most 4096 bytes).
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// When the delivery is tried next after this attempt; `null`: no further automatic attempt.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The delivery's state now: `pending`, `succeeded` or `failed`.
    pub delivery_status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestQueued {
    /// The ping's `webhook-id`.
    pub event_id: String,
    pub delivery_id: Uuid,
}

/// The bank whose endpoints the caller manages: `None` for admin (all banks).
pub fn managed_bank(caller: &Principal) -> AppResult<Option<Uuid>> {
    match caller.role {
        Role::Admin => Ok(None),
        Role::Bank => {
            caller.bank_id().map(Some).ok_or_else(|| AppError::Forbidden("this bank key names no bank".into()))
        }
        role => Err(AppError::Forbidden(format!("a {role} key cannot manage webhook endpoints"))),
    }
}

/// The endpoint, if the caller may manage it (another bank's is reported as not found).
pub async fn owned(conn: &mut Conn, caller: &Principal, id: Uuid) -> AppResult<Endpoint> {
    let bank = managed_bank(caller)?;
    match store::get_endpoint(conn, id).await? {
        Some(e) if bank.is_none_or(|b| b == e.bank_id) => Ok(e),
        _ => Err(AppError::not_found("webhook endpoint")),
    }
}

/// Endpoints the caller manages: a bank its own; the office all, or one bank's.
pub async fn list_endpoints(
    conn: &mut Conn,
    caller: &Principal,
    bank_filter: Option<Uuid>,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Endpoint>> {
    let bank = match managed_bank(caller)? {
        Some(own) => Some(own),
        None => bank_filter,
    };
    store::list_endpoints(conn, bank, after, limit).await
}

/// Replaces the signing secret; the previous one keeps signing alongside for the overlap window.
pub async fn rotate_secret(
    db: &Db,
    config: &Config,
    caller: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<RotatedSecret> {
    let sealer = settings::secret_box(config)?;
    let overlap = chrono::Duration::hours(i64::from(config.webhooks_rotation_overlap_hours));
    let mut tx = db.begin().await?;
    let e = owned(&mut tx, caller, id).await?;
    let secret = WebhookSecret::generate();
    let sealed = sealer.seal_secret(&secret).map_err(|e| AppError::Internal(e.into()))?;
    let until = store::rotate_secret(&mut tx, e.id, &sealed, overlap, now).await?;
    tx.commit().await?;
    tracing::info!(endpoint_id = %e.id, "webhook signing secret rotated");
    Ok(RotatedSecret { secret: secret.expose(), previous_secret_expires_at: until })
}

/// Queues a signed `webhook.ping` to the endpoint.
pub async fn test_endpoint(db: &Db, caller: &Principal, id: Uuid, now: DateTime<Utc>) -> AppResult<TestQueued> {
    let mut tx = db.begin().await?;
    let e = owned(&mut tx, caller, id).await?;
    if !e.enabled {
        return Err(AppError::conflict("endpoint_disabled", "the endpoint is disabled; enable it first"));
    }
    let ping = EventEnvelope::ping(now);
    let body = ping.to_bytes().map_err(|e| AppError::Internal(e.into()))?;
    let body = String::from_utf8(body).map_err(|e| AppError::Internal(e.into()))?;
    let event_uuid = ping.id.uuid();
    store::insert_message(&mut tx, event_uuid, ping.event_type, None, false, &body, now).await?;
    let ids = store::insert_deliveries(&mut tx, event_uuid, &[(e.id, true)], "test", now).await?;
    tx.commit().await?;
    dispatcher::wake();
    let delivery_id = ids.first().copied().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no delivery id")))?;
    Ok(TestQueued { event_id: ping.id.to_string(), delivery_id })
}

/// The endpoint's delivery attempts, newest first, from before `before`.
pub async fn attempts(
    conn: &mut Conn,
    caller: &Principal,
    id: Uuid,
    before: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Attempt>> {
    let e = owned(conn, caller, id).await?;
    let rows = store::list_attempts(conn, e.id, before, limit).await?;
    Ok(rows
        .into_iter()
        .map(|a| Attempt {
            id: a.id,
            delivery_id: a.delivery_id,
            event_id: webhook_id(a.event_id).to_string(),
            event_type: a.event_type,
            attempt_number: a.attempt_number,
            origin: a.origin,
            attempted_at: a.attempted_at,
            outcome: a.outcome,
            status_code: a.status_code,
            response_body: a.response_body,
            error: a.error,
            duration_ms: a.duration_ms,
            next_attempt_at: a.next_attempt_at,
            delivery_status: a.delivery_status,
        })
        .collect())
}
