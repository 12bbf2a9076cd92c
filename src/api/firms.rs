//! Firms and their yearly financials.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::pagination::{Page, PageQuery, Paging, page, page_schema};
use super::problem::Problem;
use super::{AppState, idempotent, parse_json, query_vocab};
use crate::api::query::Paged;
use crate::domain::firm::{City, FinancialYear, FinancialsInput, Firm, FirmInput, Tier, Venue, valid_industry_code};
use crate::domain::ids::FirmId;
use crate::error::{AppError, AppResult};
use crate::service;
use crate::service::firms::FirmFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FirmQuery {
    /// One of the 16 cities.
    #[param(value_type = Option<City>)]
    pub city: Option<String>,
    #[param(value_type = Option<Tier>)]
    pub tier: Option<String>,
    /// GB/T 4754 code prefix, e.g. `C35`.
    pub industry: Option<String>,
    pub in_reserve_pool: Option<bool>,
    /// Target venue of the firm's reserve-pool entry.
    #[param(value_type = Option<Venue>)]
    pub target_venue: Option<String>,
    /// Substring of the firm's name.
    pub q: Option<String>,
}

page_schema!(FirmPage = Firm);

#[derive(Debug, Serialize, ToSchema)]
pub struct FinancialsList {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub items: Vec<FinancialYear>,
}

/// List firms (admin: all; enterprise: its own).
#[utoipa::path(get, path = "/v1/firms", tag = "firms", params(FirmQuery, PageQuery),
    responses((status = 200, body = FirmPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_firms(
    state: web::Data<AppState>,
    caller: Caller,
    q: Paged<FirmQuery>,
) -> AppResult<web::Json<Page<Firm>>> {
    let mut filter = FirmFilter {
        city: query_vocab("city", q.city.as_deref())?,
        tier: query_vocab("tier", q.tier.as_deref())?,
        target_venue: query_vocab("target_venue", q.target_venue.as_deref())?,
        in_reserve_pool: q.in_reserve_pool,
        name_contains: q.q.clone().filter(|s| !s.trim().is_empty()),
        industry_prefix: None,
    };
    if let Some(p) = crate::service::paging::given(q.industry.as_deref()).map(str::to_ascii_uppercase) {
        let valid_prefix = valid_industry_code(&p) || (p.len() == 2 && valid_industry_code(&format!("{p}0")));
        if !valid_prefix {
            return Err(AppError::field(
                "industry",
                "invalid",
                "must be a GB/T 4754 code prefix, e.g. C, C3, C35, C3562",
            ));
        }
        filter.industry_prefix = Some(p);
    }
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = service::firms::list_as(&mut conn, &caller, &filter, after, limit + 1).await?;
    Ok(web::Json(page(rows, limit, |f| f.id)))
}

/// Register a firm (admin).
#[utoipa::path(post, path = "/v1/firms", tag = "firms", request_body = FirmInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = Firm), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem, description = "Credit code already registered"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_firm(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    idempotent(&state, &req, &caller, &body, || async {
        let input: FirmInput = parse_json(&req, &body)?;
        let now = state.clock.now();
        let fields = input.validate(now.date_naive())?;
        let mut tx = state.db.begin().await?;
        let firm = service::firms::create(&mut tx, &fields, now).await?;
        service::matching::refresh_firm(&mut tx, state.db.dialect(), firm.id, now).await?;
        tx.commit().await?;
        tracing::info!(firm_id = %firm.id, "firm registered");
        Ok((StatusCode::CREATED, firm))
    })
    .await
}

/// One firm.
#[utoipa::path(get, path = "/v1/firms/{id}", tag = "firms", params(("id" = Uuid, Path)),
    responses((status = 200, body = Firm), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_firm(state: web::Data<AppState>, caller: Caller, id: web::Path<FirmId>) -> AppResult<web::Json<Firm>> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let mut conn = state.db.pool().acquire().await?;
    service::firms::get(&mut conn, id).await.map(web::Json)
}

/// Change some of a firm's fields. Absent fields keep their value; an empty string clears an optional field.
#[utoipa::path(patch, path = "/v1/firms/{id}", tag = "firms", params(("id" = Uuid, Path)), request_body = FirmInput,
    responses((status = 200, body = Firm), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_firm(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<FirmId>,
    body: web::Bytes,
) -> AppResult<web::Json<Firm>> {
    caller.require_firm(*id)?;
    let input: FirmInput = parse_json(&req, &body)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let firm = service::firms::patch_as(&mut tx, state.db.dialect(), &caller, id.into_inner(), &input, now).await?;
    tx.commit().await?;
    Ok(web::Json(firm))
}

/// A firm's yearly financials, oldest first.
#[utoipa::path(get, path = "/v1/firms/{id}/financials", tag = "firms", params(("id" = Uuid, Path)),
    responses((status = 200, body = FinancialsList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_financials(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
) -> AppResult<web::Json<FinancialsList>> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let mut conn = state.db.pool().acquire().await?;
    let items = service::firms::financials(&mut conn, id).await?;
    Ok(web::Json(FinancialsList { firm_id: id, items }))
}

/// Write one fiscal year of financials whole (fields left out become unknown).
#[utoipa::path(put, path = "/v1/firms/{id}/financials/{year}", tag = "firms",
    params(("id" = Uuid, Path), ("year" = i32, Path, description = "Fiscal year, e.g. 2024")),
    request_body = FinancialsInput,
    responses((status = 200, body = FinancialYear), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_financials(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(FirmId, i64)>,
    body: web::Bytes,
) -> AppResult<web::Json<FinancialYear>> {
    let (id, year) = path.into_inner();
    let input: FinancialsInput = parse_json(&req, &body)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let fy = service::firms::put_financials_as(&mut tx, state.db.dialect(), &caller, id, year, &input, now).await?;
    tx.commit().await?;
    Ok(web::Json(fy))
}
