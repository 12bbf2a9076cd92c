//! Investment intentions and closed investments recorded by funds.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::Caller;
use super::pagination::{Page, PageQuery, Paging, page, page_schema};
use super::problem::Problem;
use super::{AppState, idempotent, parse_json, query_vocab};
use crate::api::query::Paged;
use crate::domain::access::Role;
use crate::domain::ids::FirmId;
use crate::domain::investment::{Investment, InvestmentFields, InvestmentInput, InvestmentStatus};
use crate::error::{AppError, AppResult};
use crate::service;
use crate::service::investments::InvestmentFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvestmentQuery {
    /// Office only (a fund key always sees its own).
    pub fund_id: Option<Uuid>,
    /// Office and funds (an enterprise key always sees its own firm's).
    #[param(value_type = Option<Uuid>)]
    pub firm_id: Option<FirmId>,
    pub roadshow_id: Option<Uuid>,
    #[param(value_type = Option<InvestmentStatus>)]
    pub status: Option<String>,
    /// Calendar year of `decided_on`.
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i32>,
}

page_schema!(InvestmentPage = Investment);

/// Record an investment intention or a closed investment in a firm (fund key for its own fund;
/// the office with `fund_id`).
#[utoipa::path(post, path = "/v1/investments", tag = "investments", request_body = InvestmentInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = Investment), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_investment(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    idempotent(&state, &req, &caller, &body, || async {
        let input: InvestmentInput = parse_json(&req, &body)?;
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        let inv = service::investments::record_as(&mut tx, &caller, &input, now).await?;
        tx.commit().await?;
        tracing::info!(investment_id = %inv.id, fund_id = %inv.fund_id, firm_id = %inv.firm_id, status = %inv.status, "investment recorded");
        Ok((StatusCode::CREATED, inv))
    })
    .await
}

/// Investments: a fund sees its own, an enterprise those in its firm, the office all.
#[utoipa::path(get, path = "/v1/investments", tag = "investments", params(InvestmentQuery, PageQuery),
    responses((status = 200, body = InvestmentPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_investments(
    state: web::Data<AppState>,
    caller: Caller,
    q: Paged<InvestmentQuery>,
) -> AppResult<web::Json<Page<Investment>>> {
    let filter = InvestmentFilter {
        fund_id: q.fund_id,
        firm_id: q.firm_id,
        roadshow_id: q.roadshow_id,
        status: query_vocab("status", q.status.as_deref())?,
        year: q.year,
    };
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = service::investments::list_as(&mut conn, &caller, filter, after, limit + 1).await?;
    Ok(web::Json(page(rows, limit, |i| i.id)))
}

/// One investment (the office, its fund or its firm; others get 404).
#[utoipa::path(get, path = "/v1/investments/{id}", tag = "investments", params(("id" = Uuid, Path)),
    responses((status = 200, body = Investment), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_investment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Investment>> {
    let mut conn = state.db.pool().acquire().await?;
    service::investments::get_as(&mut conn, &caller, id.into_inner()).await.map(web::Json)
}

/// Change an investment: close or withdraw an intention, correct amount, round, date or note
/// (its fund, or the office).
#[utoipa::path(patch, path = "/v1/investments/{id}", tag = "investments", params(("id" = Uuid, Path)), request_body = InvestmentInput,
    responses((status = 200, body = Investment), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_investment(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<Investment>> {
    if !matches!(caller.role(), Role::Admin | Role::Fund) {
        return Err(AppError::Forbidden(format!("a {} key cannot change investments", caller.role())));
    }
    let input: InvestmentInput = parse_json(&req, &body)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let current = service::investments::get_as(&mut tx, &caller, id.into_inner()).await?;
    let fields = input.validate_onto(Some(&InvestmentFields::of(&current)), now.date_naive())?;
    let inv = service::investments::update(&mut tx, &current, &fields, now).await?;
    tx.commit().await?;
    Ok(web::Json(inv))
}
