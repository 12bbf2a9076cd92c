//! Financing applications: an enterprise applies, the bank (or the office) moves it through
//! review to an outcome, the enterprise may withdraw before a decision.
//!
//! Moves are `POST /v1/applications/{id}/transitions` with the target `status` and that status's
//! fields (a POST, not a PATCH: each move is a new, dated, attributed fact in the history, not
//! an edit of the application).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::Caller;
use super::pagination::{Page, PageQuery, Paging, page};
use super::problem::Problem;
use super::{AppState, idempotent, parse_json, query_vocab};
use crate::api::query::Paged;
use crate::domain::application::{ApplicationDraft, ApplicationStatus, StatusChangeDraft};
use crate::domain::ids::FirmId;
use crate::error::AppResult;
use crate::service::applications as service;
pub use crate::service::applications::{APPLICATION_CONSENT_DAYS, ApplicationDetail, ApplicationPage};
use crate::service::applications::{AppFilter, Application};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    #[param(value_type = Option<ApplicationStatus>)]
    pub status: Option<String>,
    pub product_id: Option<Uuid>,
    /// Admin and bank keys.
    #[param(value_type = Option<Uuid>)]
    pub firm_id: Option<FirmId>,
}

/// Apply for a product (enterprise key, for its own firm). Amount and term must fit the
/// product's ranges; the product must be open. Applying grants the product's bank consent to see
/// the firm (for a year) if no consent in force covers it yet. One open application (submitted,
/// under review or approved) per product: a second is 409.
#[utoipa::path(post, path = "/v1/applications", tag = "applications", request_body = ApplicationDraft,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried application safe")),
    responses((status = 201, body = ApplicationDetail), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem, description = "An open application for this product exists"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn apply(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    service::applicant(&caller)?;
    idempotent(&state, &req, &caller, &body, || async {
        let draft: ApplicationDraft = parse_json(&req, &body)?;
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        let out = service::apply(&mut tx, &caller, &draft, now).await?;
        tx.commit().await?;
        Ok((StatusCode::CREATED, out))
    })
    .await
}

/// Applications the caller may see: the office all; a bank those for its products whose firm's
/// consent covers it; an enterprise its own. Newest last (id order), keyset paginated.
#[utoipa::path(get, path = "/v1/applications", tag = "applications", params(ApplicationQuery, PageQuery),
    responses((status = 200, body = ApplicationPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: Paged<ApplicationQuery>,
) -> AppResult<web::Json<Page<Application>>> {
    let filter =
        AppFilter { status: query_vocab("status", q.status.as_deref())?, product_id: q.product_id, firm_id: q.firm_id };
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = service::list(&mut conn, &caller, &filter, after, limit + 1, state.clock.now()).await?;
    Ok(web::Json(page(rows, limit, |a| a.id)))
}

/// One application with its history (404 when the caller may not see it).
#[utoipa::path(get, path = "/v1/applications/{id}", tag = "applications", params(("id" = Uuid, Path)),
    responses((status = 200, body = ApplicationDetail), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<ApplicationDetail>> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(service::get(&mut conn, &caller, id.into_inner(), state.clock.now()).await?))
}

/// Move an application: `{"status": "under_review"}`; `{"status": "approved", "approved_amount",
/// "approved_term_months", "approved_rate", "approved_on"?}`; `{"status": "disbursed",
/// "disbursed_amount", "disbursed_on"?}`; `{"status": "declined", "reason_code", "reason_text"?}`
/// (bank or office); `{"status": "withdrawn"}` (the enterprise, before a decision). Each move is
/// dated, attributed and recorded as an event. A move the life cycle does not allow from the
/// current status is 409 with `allowed_next`; a move that belongs to another role is 403.
#[utoipa::path(post, path = "/v1/applications/{id}/transitions", tag = "applications", params(("id" = Uuid, Path)),
    request_body = StatusChangeDraft,
    responses((status = 200, body = ApplicationDetail), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Illegal transition; `allowed_next` names the legal ones"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn transition(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<ApplicationDetail>> {
    let draft: StatusChangeDraft = parse_json(&req, &body)?;
    let now = state.clock.now();
    let organizer = crate::service::mail_organizer(&state.config);
    let mut tx = state.db.begin().await?;
    let out = service::transition(&mut tx, &caller, &organizer, id.into_inner(), &draft, now).await?;
    tx.commit().await?;
    Ok(web::Json(out))
}
