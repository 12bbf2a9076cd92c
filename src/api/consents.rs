//! A firm's data-sharing consents: grant, list, revoke.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::Problem;
use super::{AppState, idempotent, parse_json};
use crate::domain::consent::{ConsentDraft, MAX_CONSENT_DAYS};
use crate::error::{AppError, AppResult};
use crate::service::consent;
use crate::store::consents::{self, ConsentRecord};
use crate::store::{banks, firms};

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    pub firm_id: Uuid,
    /// Every grant, oldest first, with its state now; revoked and expired ones stay listed.
    pub items: Vec<ConsentRecord>,
}

/// Grant consent (the enterprise itself, or the office recording a signed paper consent): to one
/// bank (`bank_id`) or, with `"bank_id": null`, to every partner bank, for `financing_matching`.
/// `expires_at` is optional; left out, the consent runs for the longest term allowed
/// (three years), so no consent is open-ended. The bank sees the firm from this moment.
#[utoipa::path(post, path = "/v1/firms/{id}/consents", tag = "consents", params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried grant safe")),
    request_body = ConsentDraft,
    responses((status = 201, body = ConsentRecord), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn grant(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let firm_id = id.into_inner();
    caller.require_firm(firm_id)?;
    idempotent(&state, &req, &caller, &body, || async {
        let mut draft: ConsentDraft = parse_json(&req, &body)?;
        let now = state.clock.now();
        if draft.expires_at.is_none() {
            draft.expires_at = Some(now + Duration::days(MAX_CONSENT_DAYS));
        }
        let new = draft.validate(now)?;
        let mut tx = state.db.begin().await?;
        if firms::get(&mut tx, firm_id).await?.is_none() {
            return Err(AppError::not_found("firm"));
        }
        if let Some(b) = new.bank_id
            && banks::get(&mut tx, b).await?.is_none()
        {
            return Err(AppError::field("bank_id", "not_found", format!("no partner bank with id {b}")));
        }
        let record = consent::grant(&mut tx, firm_id, &new, Some(&caller.0), now).await?;
        tx.commit().await?;
        tracing::info!(firm_id = %firm_id, consent_id = %record.consent.id, "consent granted");
        Ok((StatusCode::CREATED, record))
    })
    .await
}

/// A firm's consents with who granted or revoked each and when (enterprise itself, office).
#[utoipa::path(get, path = "/v1/firms/{id}/consents", tag = "consents", params(("id" = Uuid, Path)),
    responses((status = 200, body = ConsentList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<ConsentList>> {
    let firm_id = id.into_inner();
    caller.require_firm(firm_id)?;
    let mut conn = state.db.pool().acquire().await?;
    if firms::get(&mut conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    let items = consents::for_firm(&mut conn, firm_id, state.clock.now()).await?;
    Ok(web::Json(ConsentList { firm_id, items }))
}

/// Revoke a consent (enterprise itself, office). The bank loses sight of the firm at once
/// (unless another consent in force still covers it); revoking twice is harmless.
#[utoipa::path(delete, path = "/v1/firms/{id}/consents/{consent_id}", tag = "consents",
    params(("id" = Uuid, Path), ("consent_id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (firm_id, consent_id) = path.into_inner();
    caller.require_firm(firm_id)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let record = consents::get(&mut tx, firm_id, consent_id, now).await?.ok_or(AppError::not_found("consent"))?;
    let revoked = consent::revoke(&mut tx, &record, &caller, now).await?;
    tx.commit().await?;
    if revoked {
        tracing::info!(firm_id = %firm_id, consent_id = %consent_id, "consent revoked");
    }
    Ok(HttpResponse::NoContent().finish())
}
