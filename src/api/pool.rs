//! The listing reserve pool (admin only).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::pagination::{PageQuery, Paging, page, page_schema};
use super::problem::Problem;
use super::{AppState, csv_response, idempotent, parse_json, query_vocab, wants_csv};
use crate::api::query::{Paged, Query};
use crate::domain::firm::{City, Tier, Venue};
use crate::domain::ids::FirmId;
use crate::domain::pool::{AdmitRequest, PoolEntry, PoolHistoryEntry};
use crate::error::{AppError, AppResult};
use crate::service::pool::PoolFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PoolQuery {
    #[param(value_type = Option<Venue>)]
    pub venue: Option<String>,
    #[param(value_type = Option<City>)]
    pub city: Option<String>,
    #[param(value_type = Option<Tier>)]
    pub tier: Option<String>,
    /// Only key reserve firms (重点后备企业), or only the others.
    pub key_firm: Option<bool>,
}

page_schema!(PoolPage = PoolEntry);

#[derive(Debug, Serialize, ToSchema)]
pub struct PoolEntryDetail {
    #[serde(flatten)]
    pub entry: PoolEntry,
    pub history: Vec<PoolHistoryEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    /// Why the firm leaves the pool (kept in its history).
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveQuery {
    /// The reason, for clients that cannot send a DELETE body.
    pub reason: Option<String>,
}

/// List the reserve pool; `Accept: text/csv` gives the same list as CSV (all pages).
#[utoipa::path(get, path = "/v1/reserve-pool", tag = "reserve-pool", params(PoolQuery, PageQuery),
    responses((status = 200, description = "A page of the pool, or with `Accept: text/csv` the whole filtered list as CSV",
            content((PoolPage = "application/json"), (String = "text/csv"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_pool(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: Paged<PoolQuery>,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let filter = PoolFilter {
        venue: query_vocab("venue", q.venue.as_deref())?,
        city: query_vocab("city", q.city.as_deref())?,
        tier: query_vocab("tier", q.tier.as_deref())?,
        key_firm: q.key_firm,
    };
    let mut conn = state.db.pool().acquire().await?;
    if wants_csv(&req) {
        let after = q.page.after()?;
        let body = crate::service::pool::csv(&mut conn, &caller, &filter, after).await?;
        return Ok(csv_response("reserve-pool.csv", body));
    }
    let Paging { limit, after } = q.paging()?;
    let rows = crate::service::pool::list(&mut conn, &caller, &filter, after, limit + 1).await?;
    Ok(HttpResponse::Ok().json(page(rows, limit, |e| e.firm_id)))
}

/// Admit a firm to the pool, or change its entry (200 when it was already in).
#[utoipa::path(post, path = "/v1/reserve-pool", tag = "reserve-pool", request_body = AdmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried admission safe")),
    responses((status = 201, body = PoolEntry, description = "Admitted"), (status = 200, body = PoolEntry, description = "Entry updated"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn admit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    idempotent(&state, &req, &caller, &body, || async {
        let input: AdmitRequest = parse_json(&req, &body)?;
        let now = state.clock.now();
        let admission = input.validate(now.date_naive())?;
        let mut tx = state.db.begin().await?;
        let (entry, created) = crate::service::pool::admit(&mut tx, &admission, &caller, now).await?;
        crate::service::matching::refresh_firm(&mut tx, state.db.dialect(), entry.firm_id, now).await?;
        tx.commit().await?;
        tracing::info!(firm_id = %entry.firm_id, venue = %entry.target_venue, created, "reserve pool admission");
        Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, entry))
    })
    .await
}

/// A pool entry with its history.
#[utoipa::path(get, path = "/v1/reserve-pool/{firm_id}", tag = "reserve-pool", params(("firm_id" = Uuid, Path)),
    responses((status = 200, body = PoolEntryDetail), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_entry(
    state: web::Data<AppState>,
    caller: Caller,
    firm_id: web::Path<FirmId>,
) -> AppResult<web::Json<PoolEntryDetail>> {
    caller.require_admin()?;
    let firm_id = firm_id.into_inner();
    let mut conn = state.db.pool().acquire().await?;
    let (entry, history) = crate::service::pool::entry(&mut conn, &caller, firm_id).await?;
    Ok(web::Json(PoolEntryDetail { entry, history }))
}

/// Take a firm out of the pool, with a reason (JSON body `{"reason": …}` or `?reason=`).
#[utoipa::path(delete, path = "/v1/reserve-pool/{firm_id}", tag = "reserve-pool", params(("firm_id" = Uuid, Path), RemoveQuery),
    request_body(content = Option<RemoveRequest>),
    responses((status = 204, description = "Removed"), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    firm_id: web::Path<FirmId>,
    q: Query<RemoveQuery>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let reason = if body.iter().any(|b| !b.is_ascii_whitespace()) {
        Some(parse_json::<RemoveRequest>(&req, &body)?.reason)
    } else {
        q.reason.clone()
    };
    let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let Some(reason) = reason else {
        return Err(AppError::field("reason", "required", "say why the firm leaves the pool"));
    };
    if reason.chars().count() > 2000 {
        return Err(AppError::field("reason", "too_long", "must be at most 2000 characters"));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let firm_id = firm_id.into_inner();
    crate::service::pool::remove(&mut tx, firm_id, &reason, &caller, now).await?;
    crate::service::matching::refresh_firm(&mut tx, state.db.dialect(), firm_id, now).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
