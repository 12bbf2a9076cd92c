//! Readiness, tier check, listing milestones and progress, rule data, programme statistics.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::problem::Problem;
use super::{AppState, csv_response, parse_json, query_vocab, wants_csv};
use crate::api::query::Query;
use crate::domain::firm::Venue;
use crate::domain::ids::FirmId;
use crate::domain::listing_stage::Progress;
use crate::domain::readiness::rules::RuleSet;
use crate::domain::tier_check::TierScheme;
use crate::error::{AppError, AppResult};
use crate::service::listing::{self as svc, ListingEventInput, ReadinessReport, TierCheckReport};
use crate::service::stats::{self, ProgrammeStats};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadinessQuery {
    /// Only this venue.
    #[param(value_type = Option<Venue>)]
    pub venue: Option<String>,
    /// Evaluate under the rules in force on this date (default: today), `YYYY-MM-DD`.
    #[param(format = Date)]
    pub as_of: Option<String>,
}

fn as_of(state: &AppState, raw: Option<&str>) -> AppResult<NaiveDate> {
    match crate::service::paging::given(raw) {
        None => Ok(state.clock.today()),
        Some(s) => crate::domain::validate::parse_day(s)
            .ok_or_else(|| AppError::field("as_of", "invalid", format!("{s:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// How far the firm is from listing on each venue: per standard and criterion met / not met /
/// unknown, with actual values, thresholds, shortfalls and the fiscal years used.
#[utoipa::path(get, path = "/v1/firms/{id}/readiness", tag = "listing", params(("id" = Uuid, Path), ReadinessQuery),
    responses((status = 200, body = ReadinessReport), (status = 404, body = Problem), (status = 409, body = Problem, description = "No rules in force for the venue on that date")),
    security(("api_key" = [])))]
pub async fn readiness(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
    q: Query<ReadinessQuery>,
) -> AppResult<web::Json<ReadinessReport>> {
    let venue = query_vocab::<Venue>("venue", q.venue.as_deref())?;
    let date = as_of(&state, q.as_of.as_deref())?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(svc::readiness_as(&mut conn, &state.rules, &caller, id.into_inner(), venue, date).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// `YYYY-MM-DD`; default today.
    #[param(format = Date)]
    pub as_of: Option<String>,
}

/// Where the firm stands on the MIIT quality-SME ladder (创新型 / 省级专精特新 / 小巨人).
#[utoipa::path(get, path = "/v1/firms/{id}/tier-check", tag = "listing", params(("id" = Uuid, Path), AsOfQuery),
    responses((status = 200, body = TierCheckReport), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "No SME tier scheme applies on that date")),
    security(("api_key" = [])))]
pub async fn tier_check(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
    q: Query<AsOfQuery>,
) -> AppResult<web::Json<TierCheckReport>> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let date = as_of(&state, q.as_of.as_deref())?;
    let mut conn = state.db.pool().acquire().await?;
    let (_, tiers) = state.rules.books(&mut conn).await?;
    let input = svc::readiness_input(&mut conn, id, date).await?;
    Ok(web::Json(svc::tier_check(&tiers, &input, id)?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedEvent {
    pub event_id: Uuid,
    pub progress: Progress,
}

/// Record a listing milestone (admin). Illegal jumps are 409 naming the allowed next stages; a
/// wrong entry is fixed by a new event with `corrects`, never by editing history.
#[utoipa::path(post, path = "/v1/firms/{id}/listing-events", tag = "listing", params(("id" = Uuid, Path)),
    request_body = ListingEventInput,
    responses((status = 201, body = RecordedEvent), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Illegal stage transition; `allowed_next` lists the legal ones"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn record_event(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<FirmId>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let id = id.into_inner();
    let input: ListingEventInput = parse_json(&req, &body)?;
    let event = input.validate()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let progress = svc::record_event(&mut tx, id, &event, caller.key_id, now).await?;
    tx.commit().await?;
    tracing::info!(firm_id = %id, venue = %event.venue, stage = %event.stage, "listing milestone recorded");
    Ok(HttpResponse::Created().json(RecordedEvent { event_id: event.id, progress }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressReport {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub as_of: NaiveDate,
    /// Every venue: current stage, dated history with days per stage, allowed next stages.
    pub venues: Vec<Progress>,
}

/// The firm's listing progress on every venue.
#[utoipa::path(get, path = "/v1/firms/{id}/listing-progress", tag = "listing", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProgressReport), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn progress(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
) -> AppResult<web::Json<ProgressReport>> {
    let id = id.into_inner();
    let today = state.clock.today();
    let mut conn = state.db.pool().acquire().await?;
    let venues = svc::progress_as(&mut conn, &caller, id, today).await?;
    Ok(web::Json(ProgressReport { firm_id: id, as_of: today, venues }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleData {
    pub listing: Vec<RuleSet>,
    pub tiers: Vec<TierScheme>,
}

/// The listing-standard rule sets and tier schemes in use, every version with its dates and sources (admin).
#[utoipa::path(get, path = "/v1/listing-rules", tag = "listing",
    responses((status = 200, body = RuleData)), security(("api_key" = [])))]
pub async fn list_rules(state: web::Data<AppState>, caller: Caller) -> AppResult<web::Json<RuleData>> {
    caller.require_admin()?;
    let mut conn = state.db.pool().acquire().await?;
    let (book, tiers) = state.rules.books(&mut conn).await?;
    Ok(web::Json(RuleData { listing: book.rule_sets().cloned().collect(), tiers: tiers.schemes().cloned().collect() }))
}

/// A rule set or tier scheme to store (admin): `{"listing": {...}}` or `{"tier": {...}}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RuleUpdate {
    Listing(Box<RuleSet>),
    Tier(Box<TierScheme>),
}

/// Add or correct a dated rule version (admin). Figures are data: correcting one needs no code change.
/// The whole book is re-validated (no overlapping versions) before anything is stored.
#[utoipa::path(put, path = "/v1/listing-rules", tag = "listing", request_body = RuleUpdate,
    responses((status = 200, body = RuleData), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn put_rules(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<web::Json<RuleData>> {
    caller.require_admin()?;
    let update: RuleUpdate = parse_json(&req, &body)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (book, tiers) = state.rules.books(&mut tx).await?;
    let invalid = |e: crate::domain::readiness::rules::RuleSetError, root: &str| {
        AppError::field(&format!("{root}.{}", e.path), "invalid", e.message)
    };
    match &update {
        RuleUpdate::Listing(set) => {
            set.validate().map_err(|e| invalid(e, "listing"))?;
            let mut sets: Vec<RuleSet> = book
                .rule_sets()
                .filter(|s| !(s.venue == set.venue && s.scope == set.scope && s.version == set.version))
                .cloned()
                .collect();
            sets.push((**set).clone());
            crate::domain::readiness::RuleBook::new(sets).map_err(|e| invalid(e, "listing"))?;
            crate::service::listing::put_operator_rule_set(&mut tx, set, caller.key_id, now).await?;
        }
        RuleUpdate::Tier(scheme) => {
            scheme.validate().map_err(|e| invalid(e, "tier"))?;
            let mut schemes: Vec<TierScheme> =
                tiers.schemes().filter(|s| s.version != scheme.version).cloned().collect();
            schemes.push((**scheme).clone());
            crate::domain::tier_check::TierBook::new(schemes).map_err(|e| invalid(e, "tier"))?;
            crate::service::listing::put_operator_tier_scheme(&mut tx, scheme, caller.key_id, now).await?;
        }
    }
    tx.commit().await?;
    let mut conn = state.db.pool().acquire().await?;
    let (book, tiers) = state.rules.books(&mut conn).await?;
    Ok(web::Json(RuleData { listing: book.rule_sets().cloned().collect(), tiers: tiers.schemes().cloned().collect() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Programme year (default: this year). R&D and patent figures use fiscal year `year − 1`.
    #[param(minimum = 2022, maximum = 2100)]
    pub year: Option<i32>,
}

/// The plan's 2025 targets next to actual figures, by city, venue and tier (admin).
/// `Accept: text/csv` gives the same figures as rows.
#[utoipa::path(get, path = "/v1/stats/programme", tag = "statistics", params(StatsQuery),
    responses((status = 200, description = "Programme statistics", content((ProgrammeStats = "application/json"), (String = "text/csv")))),
    security(("api_key" = [])))]
pub async fn programme_stats(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: Query<StatsQuery>,
) -> AppResult<HttpResponse> {
    let year = q.year.unwrap_or_else(|| state.clock.today().year());
    let mut conn = state.db.pool().acquire().await?;
    let stats = stats::programme_as(&mut conn, &caller, year).await?;
    if wants_csv(&req) {
        let body = stats::to_csv(&stats).map_err(AppError::Internal)?;
        return Ok(csv_response(&format!("programme-{year}.csv"), body));
    }
    Ok(HttpResponse::Ok().json(stats))
}
