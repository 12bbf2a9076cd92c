//! Webhook endpoints of partner banks, the attempt log, and resend / recover / test.
//!
//! A bank key manages its own bank's endpoints (another bank's are 404); an admin key manages
//! every bank's. Signing secrets are shown once, at creation and on rotation.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::ids::BankId;

use super::auth::Caller;
use super::pagination::{Page, PageQuery, Paging, page, page_schema};
use super::problem::Problem;
use super::{AppState, idempotency_key, parse_json};
use crate::api::query::{Paged, Query};
use crate::domain::access::Principal;
use crate::domain::validate::Errors;
use crate::error::{AppError, AppResult};
use crate::service::idempotency::{self, Claim};
use crate::service::webhooks as service;
pub use crate::service::webhooks::RECOVER_CAP;
pub use crate::service::webhooks::{Attempt, RotatedSecret, TestQueued};
use crate::service::webhooks::{Endpoint, EndpointInput};

/// A new endpoint, with its signing secret (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_…`: verify deliveries with it (any Standard Webhooks library). Shown only in this
    /// answer; `null` when the answer is replayed for a repeated `Idempotency-Key` (rotate the
    /// secret if it was lost).
    pub secret: Option<String>,
}

page_schema!(EndpointPage = Endpoint);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndpointQuery {
    /// Admin keys: only this bank's endpoints.
    #[param(value_type = Option<Uuid>)]
    pub bank_id: Option<BankId>,
}

page_schema!(AttemptPage = Attempt);

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RecoverRequest {
    /// Queue again every failed delivery created at or after this time…
    #[schema(required = true, nullable = false)]
    pub since: Option<DateTime<Utc>>,
    /// …and before this one (default: now).
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoverQueued {
    pub queued: u64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ResendRequest {
    /// Only to this endpoint; absent: to every endpoint of the caller's bank that had the event.
    pub endpoint_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResendQueued {
    pub event_id: String,
    pub delivery_ids: Vec<Uuid>,
}

/// Register a webhook endpoint. The answer carries the signing secret, shown this once.
///
/// `Idempotency-Key` is honoured, but the stored answer never holds the secret (that would keep
/// it unencrypted): a replay answers the same endpoint with `"secret": null`.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks", request_body = EndpointInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = CreatedEndpoint), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 503, body = Problem, description = "SRDI_WEBHOOKS_SECRET_KEY is not configured")),
    security(("api_key" = [])))]
pub async fn create_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    service::check_can_register(&caller, &state.config)?;
    let key = idempotency_key(&req)?;
    let now = state.clock.now();
    if let Some(key) = &key {
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str());
        hasher.update(b"\n");
        hasher.update(req.uri().to_string());
        hasher.update(b"\n");
        hasher.update(&body);
        let fingerprint = hex::encode(hasher.finalize());
        if let Claim::Replay { status, body } =
            idempotency::claim(&state.db, caller.key_id, key, &fingerprint, now).await?
        {
            return Ok(super::replayed(status, body));
        }
    }
    let outcome = async {
        let input: EndpointInput = parse_json(&req, &body)?;
        service::create_endpoint(&state.db, &state.config, &caller, &input, now).await
    }
    .await;
    match outcome {
        Ok((endpoint, secret)) => {
            let replay = CreatedEndpoint { endpoint, secret: None };
            let stored = serde_json::to_string(&replay).map_err(|e| AppError::Internal(e.into()))?;
            if let Some(key) = &key {
                idempotency::complete(&state.db, caller.key_id, key, 201, &stored).await?;
            }
            let shown = CreatedEndpoint { endpoint: replay.endpoint, secret: Some(secret.expose()) };
            Ok(HttpResponse::Created().json(shown))
        }
        Err(e) => {
            if let Some(key) = &key {
                let status = actix_web::ResponseError::status_code(&e);
                if status.is_client_error() {
                    let body = serde_json::to_string(&e.to_problem()).map_err(|e| AppError::Internal(e.into()))?;
                    idempotency::complete(&state.db, caller.key_id, key, status.as_u16(), &body).await?;
                } else {
                    idempotency::release(&state.db, caller.key_id, key).await?;
                }
            }
            Err(e)
        }
    }
}

/// List webhook endpoints (bank: its own; admin: all, or one bank's with `bank_id`).
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks", params(EndpointQuery, PageQuery),
    responses((status = 200, body = EndpointPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_endpoints(
    state: web::Data<AppState>,
    caller: Caller,
    q: Paged<EndpointQuery>,
) -> AppResult<web::Json<Page<Endpoint>>> {
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = service::list_endpoints(&mut conn, &caller, q.bank_id, after, limit + 1).await?;
    Ok(web::Json(page(rows, limit, |e| e.id)))
}

/// One webhook endpoint.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, body = Endpoint), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Endpoint>> {
    let mut conn = state.db.pool().acquire().await?;
    service::owned(&mut conn, &caller, id.into_inner()).await.map(web::Json)
}

/// Change an endpoint. Absent fields keep their value; `product_ids: null` removes the filter.
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    request_body = EndpointInput,
    responses((status = 200, body = Endpoint), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<Endpoint>> {
    let input: EndpointInput = parse_json(&req, &body)?;
    let updated =
        service::update_endpoint(&state.db, &state.config, &caller, id.into_inner(), &input, state.clock.now()).await?;
    Ok(web::Json(updated))
}

/// Delete an endpoint with its secrets, queued deliveries and attempt log.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn delete_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    service::delete_endpoint(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Enable an endpoint (also after an automatic disable); its failure record starts afresh.
/// Deliveries failed meanwhile are not re-sent by this: use `recover`.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/enable", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, body = Endpoint), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn enable_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Endpoint>> {
    set_enabled(&state, &caller, id.into_inner(), true).await
}

/// Disable an endpoint: nothing is sent to it; queued deliveries fail and can be recovered later.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/disable", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, body = Endpoint), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn disable_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Endpoint>> {
    set_enabled(&state, &caller, id.into_inner(), false).await
}

async fn set_enabled(state: &AppState, caller: &Principal, id: Uuid, enabled: bool) -> AppResult<web::Json<Endpoint>> {
    Ok(web::Json(service::set_enabled(&state.db, caller, id, enabled, state.clock.now()).await?))
}

/// Replace the signing secret. The previous one keeps signing alongside the new one for
/// `SRDI_WEBHOOKS_ROTATION_OVERLAP_HOURS` (24 h by default): meanwhile every delivery carries both
/// signatures, so the bank can switch its verifier at any time within the window.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, body = RotatedSecret), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 503, body = Problem)),
    security(("api_key" = [])))]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<RotatedSecret>> {
    Ok(web::Json(service::rotate_secret(&state.db, &state.config, &caller, id.into_inner(), state.clock.now()).await?))
}

/// Send a signed `webhook.ping` to the endpoint (asynchronously, like any delivery; see
/// `attempts` for the result).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/test", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 202, body = TestQueued), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The endpoint is disabled")),
    security(("api_key" = [])))]
pub async fn test_endpoint(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let queued = service::test_endpoint(&state.db, &caller, id.into_inner(), state.clock.now()).await?;
    Ok(HttpResponse::Accepted().json(queued))
}

/// Queue again every delivery to this endpoint that failed (after all its attempts, or while the
/// endpoint was disabled) and was created in `[since, until)`; at most 10 000, oldest first.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/recover", tag = "webhooks", params(("id" = Uuid, Path)),
    request_body = RecoverRequest,
    responses((status = 202, body = RecoverQueued), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn recover(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let input: RecoverRequest = parse_json(&req, &body)?;
    let now = state.clock.now();
    let mut errors = Errors::default();
    let since = errors.required("since", input.since);
    let until = input.until.unwrap_or(now);
    if since.is_some_and(|s| s >= until) {
        errors.add("until", "out_of_range", "must be after since");
    }
    let since = errors.finish(since)?.unwrap_or(now);
    let queued = service::recover(&state.db, &caller, id.into_inner(), since, until, now).await?;
    Ok(HttpResponse::Accepted().json(RecoverQueued { queued }))
}

/// The endpoint's delivery attempts, newest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/attempts", tag = "webhooks", params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = AttemptPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_attempts(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: Query<PageQuery>,
) -> AppResult<web::Json<Page<Attempt>>> {
    let Paging { limit, after: before } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let items = service::attempts(&mut conn, &caller, id.into_inner(), before, limit + 1).await?;
    Ok(web::Json(page(items, limit, |a| a.id)))
}

/// Send an event again (same `webhook-id`, fresh timestamp and signatures, a full retry schedule)
/// to one endpoint or to every endpoint of the caller's bank that had it. Payloads are kept for
/// `SRDI_WEBHOOKS_RETENTION_DAYS` (30); older events are 404.
#[utoipa::path(post, path = "/v1/webhook-events/{id}/resend", tag = "webhooks",
    params(("id" = String, Path, description = "The event's webhook-id (`evt_…`)")),
    request_body(content = Option<ResendRequest>),
    responses((status = 202, body = ResendQueued), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn resend_event(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    // A key that manages no endpoints is refused before its body is read.
    service::managed_bank(&caller)?;
    let input: ResendRequest = super::parse_optional_json(&req, &body)?;
    let (event_id, delivery_ids) =
        service::resend(&state.db, &caller, &id.into_inner(), input.endpoint_id, state.clock.now()).await?;
    Ok(HttpResponse::Accepted().json(ResendQueued { event_id, delivery_ids }))
}
