//! A bank's webhook endpoints as the bank (or the office) manages them: list, the attempt log,
//! test ping, secret rotation. The API and the pages call these with the caller's principal.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::BankId;

use super::webhook_dispatcher as dispatcher;
use crate::config::Config;
use crate::db::Db;
use crate::domain::access::{ActsFor, Principal};
use crate::domain::validate::FieldError;
use crate::error::{AppError, AppResult};
use crate::store::Conn;
use crate::store::webhooks as store;
pub use crate::webhooks::endpoint::{DisabledReason, Endpoint, EndpointFields, EndpointInput};
use crate::webhooks::outbox::webhook_id;
pub use crate::webhooks::payload::{EventEnvelope, EventId};
use crate::webhooks::settings;
pub use crate::webhooks::settings::load_or_create_key_file;
pub use crate::webhooks::signing::WebhookSecret;

/// Most deliveries one `recover` call queues.
pub const RECOVER_CAP: u32 = 10_000;

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
pub fn managed_bank(caller: &Principal) -> AppResult<Option<BankId>> {
    match caller.acts_for {
        ActsFor::Admin => Ok(None),
        ActsFor::Bank(own) => Ok(Some(own)),
        _ => Err(AppError::Forbidden(format!("a {} key cannot manage webhook endpoints", caller.role()))),
    }
}

/// The endpoint, if the caller may manage it (another bank's is reported as not found).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn owned(conn: &mut Conn, caller: &Principal, id: Uuid) -> AppResult<Endpoint> {
    let bank = managed_bank(caller)?;
    match store::get_endpoint(conn, id).await? {
        Some(e) if bank.is_none_or(|b| b == e.bank_id) => Ok(e),
        _ => Err(AppError::not_found("webhook endpoint")),
    }
}

/// Endpoints the caller manages: a bank its own; the office all, or one bank's.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn list_endpoints(
    conn: &mut Conn,
    caller: &Principal,
    bank_filter: Option<BankId>,
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
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
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
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
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
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
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

/// Whether the caller may register endpoints here at all: a bank or the office, and the operator
/// has set the key that seals signing secrets. Checked before anything of the request is read.
pub fn check_can_register(caller: &Principal, config: &Config) -> AppResult<()> {
    managed_bank(caller)?;
    settings::secret_box(config).map(|_| ())
}

/// Registers an endpoint for the caller's bank (or, for the office, the bank the input names) and
/// returns it with its new signing secret, which is stored only sealed.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn create_endpoint(
    db: &Db,
    config: &Config,
    caller: &Principal,
    input: &EndpointInput,
    now: DateTime<Utc>,
) -> AppResult<(Endpoint, WebhookSecret)> {
    let own_bank = managed_bank(caller)?;
    let sealer = settings::secret_box(config)?;
    let bank_id = match (own_bank, input.bank_id) {
        (Some(own), None) => own,
        (Some(own), Some(b)) if b == own => own,
        (Some(_), Some(_)) => {
            return Err(AppError::Forbidden("a bank key registers endpoints for its own bank only".into()));
        }
        (None, Some(b)) => b,
        (None, None) => {
            return Err(AppError::field("bank_id", "required", "an admin key names the bank the endpoint is for"));
        }
    };
    let (fields, mut errors) = match input.validate(None, &settings::ssrf_policy(config)) {
        Ok(f) => (Some(f), Vec::new()),
        Err(e) => (None, e),
    };
    let mut tx = db.begin().await?;
    if crate::store::banks::get(&mut tx, bank_id).await?.is_none() {
        errors.push(FieldError::new("bank_id", "not_found", "no bank with this id"));
    }
    let Some(fields) = fields.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let secret = WebhookSecret::generate();
    let sealed = sealer.seal_secret(&secret).map_err(|e| AppError::Internal(e.into()))?;
    let endpoint = store::insert_endpoint(&mut tx, bank_id, &fields, &sealed, now).await?;
    tx.commit().await?;
    tracing::info!(endpoint_id = %endpoint.id, bank_id = %bank_id, "webhook endpoint registered");
    Ok((endpoint, secret))
}

/// Changes an endpoint the caller manages; absent fields keep their value.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, endpoint_id = %id))]
pub async fn update_endpoint(
    db: &Db,
    config: &Config,
    caller: &Principal,
    id: Uuid,
    input: &EndpointInput,
    now: DateTime<Utc>,
) -> AppResult<Endpoint> {
    let mut tx = db.begin().await?;
    let current = owned(&mut tx, caller, id).await?;
    if input.bank_id.is_some_and(|b| b != current.bank_id) {
        return Err(AppError::field("bank_id", "immutable", "an endpoint stays with its bank"));
    }
    let fields = input.validate(Some(&EndpointFields::of(&current)), &settings::ssrf_policy(config))?;
    store::update_endpoint(&mut tx, current.id, &fields, now).await?;
    let updated = store::get_endpoint(&mut tx, current.id).await?.ok_or(AppError::not_found("webhook endpoint"))?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes an endpoint with its secrets, queued deliveries and attempt log.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, endpoint_id = %id))]
pub async fn delete_endpoint(db: &Db, caller: &Principal, id: Uuid) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let e = owned(&mut tx, caller, id).await?;
    store::delete_endpoint(&mut tx, e.id).await?;
    tx.commit().await?;
    tracing::info!(endpoint_id = %e.id, "webhook endpoint deleted");
    Ok(())
}

/// Enables (failure record afresh) or disables (by hand) an endpoint the caller manages.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, endpoint_id = %id, enabled))]
pub async fn set_enabled(
    db: &Db,
    caller: &Principal,
    id: Uuid,
    enabled: bool,
    now: DateTime<Utc>,
) -> AppResult<Endpoint> {
    let mut tx = db.begin().await?;
    let e = owned(&mut tx, caller, id).await?;
    let reason = (!enabled).then_some(DisabledReason::Manual);
    let changed = store::set_enabled(&mut tx, e.id, enabled, reason, now).await?;
    let updated = store::get_endpoint(&mut tx, e.id).await?.ok_or(AppError::not_found("webhook endpoint"))?;
    tx.commit().await?;
    if changed {
        tracing::info!(endpoint_id = %e.id, enabled, "webhook endpoint switched");
        if enabled {
            dispatcher::wake();
        }
    }
    Ok(updated)
}

/// Queues again the failed deliveries to an enabled endpoint created in `[since, until)`, at most
/// [`RECOVER_CAP`]; returns how many.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, endpoint_id = %id))]
pub async fn recover(
    db: &Db,
    caller: &Principal,
    id: Uuid,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let mut tx = db.begin().await?;
    let e = owned(&mut tx, caller, id).await?;
    if !e.enabled {
        return Err(AppError::conflict("endpoint_disabled", "the endpoint is disabled; enable it first"));
    }
    let queued = store::recover(&mut tx, e.id, since, until, RECOVER_CAP, now).await?;
    tx.commit().await?;
    tracing::info!(endpoint_id = %e.id, queued, "webhook deliveries recovered");
    dispatcher::wake();
    Ok(queued)
}

/// Sends an event again to one endpoint or to every endpoint of the caller's bank that had it;
/// returns the event's `webhook-id` and the new deliveries.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn resend(
    db: &Db,
    caller: &Principal,
    event: &str,
    endpoint_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<(String, Vec<Uuid>)> {
    let bank = managed_bank(caller)?;
    let event_uuid = EventId::parse(event)
        .map(|e| e.uuid())
        .or_else(|_| Uuid::parse_str(event))
        .map_err(|_| AppError::not_found("webhook event"))?;
    let mut tx = db.begin().await?;
    let Some(deliveries) = store::message_deliveries(&mut tx, event_uuid, bank).await? else {
        return Err(AppError::not_found("webhook event"));
    };
    let relevant: Vec<&(Uuid, Uuid, bool)> =
        deliveries.iter().filter(|(_, endpoint, _)| endpoint_id.is_none_or(|x| x == *endpoint)).collect();
    if relevant.is_empty() {
        return Err(AppError::not_found("webhook event"));
    }
    if endpoint_id.is_some() && relevant.iter().all(|(_, _, enabled)| !enabled) {
        return Err(AppError::conflict("endpoint_disabled", "the endpoint is disabled; enable it first"));
    }
    let ids = store::requeue_message(&mut tx, event_uuid, bank, endpoint_id, now).await?;
    tx.commit().await?;
    dispatcher::wake();
    Ok((webhook_id(event_uuid).to_string(), ids))
}
