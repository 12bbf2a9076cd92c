//! Partner banks (admin onboards them and issues their keys) and the LPR table.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ids::BankId;

use super::auth::Caller;
use super::keys::{IssuedKey, KeyRequest};
use super::pagination::{Page, PageQuery, Paging, page, page_schema};
use super::problem::Problem;
use super::{AppState, idempotent, parse_json, parse_optional_json};
use crate::api::query::Query;
use crate::domain::bank::{Bank, BankDraft, LprDraft};
use crate::domain::product::LprFixing;
use crate::error::{AppError, AppResult};
use crate::service::banks;

page_schema!(BankPage = Bank);

/// What a caller may see of a bank: everyone sees the partner list (an enterprise needs it to
/// grant consent); the contact mailbox only the office and the bank itself.
fn shown(mut b: Bank, caller: &Caller) -> Bank {
    if !(caller.is_admin() || caller.bank_id() == Some(b.id)) {
        b.contact_email = None;
    }
    b
}

/// Onboard a partner bank (admin).
#[utoipa::path(post, path = "/v1/banks", tag = "banks", request_body = BankDraft,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = Bank), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem, description = "Bank code already taken"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_bank(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    idempotent(&state, &req, &caller, &body, || async {
        let draft: BankDraft = parse_json(&req, &body)?;
        let new = draft.validate()?;
        let bank = banks::create(&state.db, &new, state.clock.now()).await?;
        Ok((StatusCode::CREATED, bank))
    })
    .await
}

/// Partner banks (every role; a bank key sees only its own bank).
#[utoipa::path(get, path = "/v1/banks", tag = "banks", params(PageQuery),
    responses((status = 200, body = BankPage), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_banks(
    state: web::Data<AppState>,
    caller: Caller,
    q: Query<PageQuery>,
) -> AppResult<web::Json<Page<Bank>>> {
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = banks::list_as(&mut conn, &caller, after, limit + 1).await?;
    let rows = rows.into_iter().map(|b| shown(b, &caller)).collect();
    Ok(web::Json(page(rows, limit, |b: &Bank| b.id)))
}

/// One bank.
#[utoipa::path(get, path = "/v1/banks/{id}", tag = "banks", params(("id" = Uuid, Path)),
    responses((status = 200, body = Bank), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_bank(state: web::Data<AppState>, caller: Caller, id: web::Path<BankId>) -> AppResult<web::Json<Bank>> {
    let mut conn = state.db.pool().acquire().await?;
    let bank = banks::get_as(&mut conn, &caller, id.into_inner()).await?;
    Ok(web::Json(shown(bank, &caller)))
}

/// Issue an API key for a bank (admin). The key is in this answer only; it acts for this bank alone.
#[utoipa::path(post, path = "/v1/banks/{id}/keys", tag = "banks", params(("id" = Uuid, Path)),
    request_body(content = Option<KeyRequest>),
    responses((status = 201, body = IssuedKey), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn issue_key(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<BankId>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let id = id.into_inner();
    let label = parse_optional_json::<KeyRequest>(&req, &body)?.label()?;
    let (info, key) = banks::issue_key(&state.db, id, label, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(IssuedKey { key, info }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LprTable {
    /// Newest first.
    pub items: Vec<LprFixing>,
}

/// The LPR table (any role).
#[utoipa::path(get, path = "/v1/lpr", tag = "products",
    responses((status = 200, body = LprTable), (status = 401, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_lpr(state: web::Data<AppState>, _caller: Caller) -> AppResult<web::Json<LprTable>> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(LprTable { items: banks::lpr_table(&mut conn).await? }))
}

/// Record or correct the fixing effective on a date (admin). Rates are annual percent strings.
/// Matches do not depend on rates, so nothing is re-evaluated; rates shown are computed from the
/// table when read.
#[utoipa::path(put, path = "/v1/lpr/{effective_on}", tag = "products",
    params(("effective_on" = chrono::NaiveDate, Path, description = "YYYY-MM-DD")), request_body = LprDraft,
    responses((status = 201, body = LprFixing, description = "New fixing"), (status = 200, body = LprFixing, description = "Fixing replaced"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_lpr(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    effective_on: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let on = crate::domain::validate::parse_day(&effective_on)
        .ok_or_else(|| AppError::field("effective_on", "invalid", "must be a date, YYYY-MM-DD"))?;
    let draft: LprDraft = parse_json(&req, &body)?;
    let fixing = draft.validate(on)?;
    let created = banks::put_lpr(&state.db, &fixing, state.clock.now()).await?;
    Ok(HttpResponse::build(if created { StatusCode::CREATED } else { StatusCode::OK }).json(fixing))
}
