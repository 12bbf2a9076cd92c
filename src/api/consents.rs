//! A firm's data-sharing consents: grant, list, revoke.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::Problem;
use super::{AppState, idempotent, parse_json};
use crate::domain::consent::ConsentDraft;
use crate::domain::ids::FirmId;
use crate::error::AppResult;
use crate::service::consent;
use crate::service::consent::ConsentRecord;

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
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
    id: web::Path<FirmId>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let firm_id = id.into_inner();
    caller.require_firm(firm_id)?;
    idempotent(&state, &req, &caller, &body, || async {
        let draft: ConsentDraft = parse_json(&req, &body)?;
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        let record = consent::grant_as(&mut tx, &caller, firm_id, draft, now).await?;
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
    id: web::Path<FirmId>,
) -> AppResult<web::Json<ConsentList>> {
    let firm_id = id.into_inner();
    let mut conn = state.db.pool().acquire().await?;
    let items = consent::list_as(&mut conn, &caller, firm_id, state.clock.now()).await?;
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
    path: web::Path<(FirmId, Uuid)>,
) -> AppResult<HttpResponse> {
    let (firm_id, consent_id) = path.into_inner();
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let revoked = consent::revoke_as(&mut tx, &caller, firm_id, consent_id, now).await?;
    tx.commit().await?;
    if revoked {
        tracing::info!(firm_id = %firm_id, consent_id = %consent_id, "consent revoked");
    }
    Ok(HttpResponse::NoContent().finish())
}
