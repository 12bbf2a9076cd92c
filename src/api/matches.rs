//! Matches: the bank pull (`GET /v1/matches`, JSON or CSV, incremental with `updated_since`),
//! one pair, and an enterprise's own view with near misses.
//!
//! # Incremental sync
//!
//! Every change to a bank's view of a match (it appears, changes, is withdrawn, or a consent
//! grant, revocation or expiry makes the firm visible or invisible) gives the row a new `seq`
//! from one counter whose row lock is held until commit, so `seq` order is commit order. Every
//! answer carries `sync_token`: the highest `seq` committed when the pull started. Rows are
//! ordered by `(seq, firm_id, product_id)` and only rows at or below that mark are returned, so
//! the pages of one pull are a consistent cut. Next time pass the token as `updated_since`: you
//! get every row changed since, including withdrawals (`status: withdrawn`) and firms whose
//! consent no longer covers you (reported as withdrawn with `withdrawn_reason: consent_not_in_force`,
//! ids only). Upsert active items, delete withdrawn ones, and your copy equals the full list.
//! `updated_since` also accepts an RFC 3339 instant (rows with `updated_at` at or after it), which
//! is convenient but can miss a row committed late by a long transaction; prefer the token.

use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use super::{csv_response, wants_csv};
use crate::api::query::Query;
use crate::domain::ids::FirmId;
use crate::error::AppResult;
use crate::service::matches as service;
pub use crate::service::matches::{FirmMatches, MatchItem, MatchPage, MatchQuery, sync_token};

/// Matched firms for the calling bank's products (the office: all, or `?bank_id=`). Only firms
/// whose consent covers the bank appear, with the profile a loan officer needs, the latest
/// financials, the score and the reasons. Keyset pagination in a stable order; `updated_since`
/// for incremental sync (see `sync_token`); `Accept: text/csv` gives the same list (all pages)
/// as a spreadsheet, with the sync token in the `X-Sync-Token` header.
#[utoipa::path(get, path = "/v1/matches", tag = "matches", params(MatchQuery),
    responses((status = 200, description = "A page of matches, or with `Accept: text/csv` the whole list as CSV",
            content((MatchPage = "application/json"), (String = "text/csv"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_matches(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: Query<MatchQuery>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let mut conn = state.db.pool().acquire().await?;
    if wants_csv(&req) {
        let (body, token) = service::pull_csv(&mut conn, &caller, &q, now).await?;
        let mut resp = csv_response("matches.csv", body);
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&token) {
            resp.headers_mut().insert(actix_web::http::header::HeaderName::from_static("x-sync-token"), v);
        }
        return Ok(resp);
    }
    Ok(HttpResponse::Ok().json(service::pull(&mut conn, &caller, &q, now).await?))
}

/// One match. A bank reads its own products' matches of firms whose consent covers it (404
/// otherwise); an enterprise its own; the office any.
#[utoipa::path(get, path = "/v1/matches/{firm_id}/{product_id}", tag = "matches",
    params(("firm_id" = Uuid, Path), ("product_id" = Uuid, Path)),
    responses((status = 200, body = MatchItem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_match(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(FirmId, Uuid)>,
) -> AppResult<web::Json<MatchItem>> {
    let (firm_id, product_id) = path.into_inner();
    let now = state.clock.now();
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(service::one(&mut conn, &caller, firm_id, product_id, now).await?))
}

/// Products the firm qualifies for, with reasons, and near misses (one or two rules failed) with
/// what it would take. Enterprise (its own), office; a bank sees its own products, and only
/// while the firm's consent covers it (404 otherwise).
#[utoipa::path(get, path = "/v1/firms/{id}/matches", tag = "matches", params(("id" = Uuid, Path)),
    responses((status = 200, body = FirmMatches), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_firm_matches(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
) -> AppResult<web::Json<FirmMatches>> {
    let now = state.clock.now();
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(service::firm_matches_for(&mut conn, &caller, id.into_inner(), now).await?))
}
