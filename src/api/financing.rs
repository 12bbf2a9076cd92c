//! An enterprise's financing status, the office's lead-bank (主办行) and financial-tutoring
//! (金融辅导) designations, and the full rematch.

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::Caller;
use super::parse_json;
use super::problem::Problem;
use crate::domain::ids::{BankId, FirmId};
use crate::domain::validate::nullable;
use crate::error::{AppError, AppResult};
use crate::service::financing;
pub use crate::service::financing::{BankRef, FinancingFlags, FinancingStatus, FinancingTotals};
use crate::service::matching::{self, RematchReport};

/// The firm's financing status: applications and their stages, totals requested, approved and
/// disbursed, matched products, consents (enterprise itself, office).
#[utoipa::path(get, path = "/v1/firms/{id}/financing-status", tag = "applications", params(("id" = Uuid, Path)),
    responses((status = 200, body = FinancingStatus), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn financing_status(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
) -> AppResult<web::Json<FinancingStatus>> {
    let now = state.clock.now();
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(crate::service::financing::status(&mut conn, &caller, id.into_inner(), now).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadBankRequest {
    /// The lead bank, or `null` to clear it. Required.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, required = true)]
    pub bank_id: Option<Option<BankId>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TutoringRequest {
    /// Whether the firm is on the financial-tutoring whitelist.
    pub whitelisted: bool,
}

/// Designate (or clear) a firm's lead bank, 主办行 (admin). Lead-bank-only products (专属产品)
/// follow at once; banks can filter their pull by it.
#[utoipa::path(put, path = "/v1/firms/{id}/lead-bank", tag = "firms", params(("id" = Uuid, Path)),
    request_body = LeadBankRequest,
    responses((status = 200, body = FinancingFlags), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_lead_bank(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<FirmId>,
    body: web::Bytes,
) -> AppResult<web::Json<FinancingFlags>> {
    caller.require_admin()?;
    let firm_id = id.into_inner();
    let body: LeadBankRequest = parse_json(&req, &body)?;
    let Some(bank_id) = body.bank_id else {
        return Err(AppError::field("bank_id", "required", "give a bank id, or null to clear the lead bank"));
    };
    Ok(web::Json(financing::set_lead_bank(&state.db, firm_id, bank_id, state.clock.now()).await?))
}

/// Put a firm on, or take it off, the financial-tutoring whitelist (admin).
#[utoipa::path(put, path = "/v1/firms/{id}/tutoring", tag = "firms", params(("id" = Uuid, Path)),
    request_body = TutoringRequest,
    responses((status = 200, body = FinancingFlags), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_tutoring(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<FirmId>,
    body: web::Bytes,
) -> AppResult<web::Json<FinancingFlags>> {
    caller.require_admin()?;
    let firm_id = id.into_inner();
    let body: TutoringRequest = parse_json(&req, &body)?;
    Ok(web::Json(financing::set_tutoring(&state.db, firm_id, body.whitelisted, state.clock.now()).await?))
}

/// Rebuild every match: every firm against every active product (admin). Only pairs whose
/// outcome changed are written, each with its `match.*` event; the answer counts what was
/// evaluated and changed. Runs in steps of 1,000 firms, one transaction each.
#[utoipa::path(post, path = "/v1/admin/rematch", tag = "matches",
    responses((status = 200, body = RematchReport), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("api_key" = [])))]
pub async fn rematch(state: web::Data<AppState>, caller: Caller) -> AppResult<web::Json<RematchReport>> {
    caller.require_admin()?;
    Ok(web::Json(matching::rematch(&state.db, &*state.clock).await?))
}
