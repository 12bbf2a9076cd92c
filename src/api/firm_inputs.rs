//! The inputs readiness, the tier check and the statistics read beside a firm's record: dated
//! share capital and market-value estimates, equity rounds, tier recognitions (one document,
//! patched by section), attestations (append-only statements) and tier scoring inputs per year.
//! Admin keys and the firm's own enterprise key only; banks and funds see none of it.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::problem::Problem;
use super::{AppState, parse_json};
use crate::domain::access::Role;
use crate::domain::firm_inputs::{
    AttestationInput, AttestationStatement, EquityFinancingRecord, FirmRecords, MarketValueEstimate,
    ReadinessInputsPatch, ShareCapitalEntry, TierInputs, TierInputsInput, TierRecognition,
};
use crate::domain::ids::FirmId;
use crate::domain::readiness::AttestationKey;
use crate::error::{AppError, AppResult};
use crate::service::firm_inputs as svc;

/// Everything on record beside the firm's registry fields and financials.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessInputs {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    /// Dated share capital (股本总额), oldest first; the entry on or before a date is in force then.
    pub share_capital: Vec<ShareCapitalEntry>,
    /// Dated market-value estimates (预计市值), oldest first; readiness on a date reads the latest
    /// estimate made by then. Writes of the firm record's `expected_market_value` appear here as
    /// `source: firm_record`, dated the day they were written.
    pub market_value_estimates: Vec<MarketValueEstimate>,
    /// `null` while nothing is recorded about equity financing.
    pub equity_financings: Option<EquityFinancingRecord>,
    /// First recognition year of each tier (office records).
    pub tier_recognitions: Vec<TierRecognition>,
    /// Every attestation ever stated, oldest first (see `/attestations`).
    pub attestations: Vec<AttestationStatement>,
    /// Tier scoring inputs per fiscal year.
    pub tier_inputs: Vec<TierInputs>,
}

impl ReadinessInputs {
    fn of(firm_id: FirmId, r: FirmRecords) -> Self {
        ReadinessInputs {
            firm_id,
            share_capital: r.share_capital,
            market_value_estimates: r.market_value_estimates,
            equity_financings: r.equity_financings,
            tier_recognitions: r.tier_recognitions,
            attestations: r.attestations,
            tier_inputs: r.tier_inputs,
        }
    }
}

/// The firm's readiness and tier inputs (admin, or the firm's own key).
#[utoipa::path(get, path = "/v1/firms/{id}/readiness-inputs", tag = "listing", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReadinessInputs), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_inputs(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
) -> AppResult<web::Json<ReadinessInputs>> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let mut conn = state.db.pool().acquire().await?;
    let records = svc::records(&mut conn, id).await?;
    Ok(web::Json(ReadinessInputs::of(id, records)))
}

/// Replace sections of the firm's readiness inputs: each of `share_capital`,
/// `market_value_estimates`, `equity_financings` and `tier_recognitions` that is present replaces
/// that section whole; absent sections are kept. `tier_recognitions` is the office's to record
/// (403 for an enterprise key). A 422 lists every bad field with its path
/// (`equity_financings.rounds[1].amount`).
#[utoipa::path(patch, path = "/v1/firms/{id}/readiness-inputs", tag = "listing", params(("id" = Uuid, Path)),
    request_body = ReadinessInputsPatch,
    responses((status = 200, body = ReadinessInputs), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_inputs(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<FirmId>,
    body: web::Bytes,
) -> AppResult<web::Json<ReadinessInputs>> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let input: ReadinessInputsPatch = parse_json(&req, &body)?;
    if caller.role() == Role::Enterprise && input.tier_recognitions.is_some() {
        return Err(AppError::Forbidden("tier recognitions are the office's to record".into()));
    }
    let now = state.clock.now();
    let source = svc::source_of(&caller);
    let patch = input.validate(source, now.date_naive())?;
    let mut tx = state.db.begin().await?;
    svc::patch(&mut tx, state.db.dialect(), id, &patch, source, now).await?;
    let records = svc::records(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(firm_id = %id, source = %source, "readiness inputs recorded");
    Ok(web::Json(ReadinessInputs::of(id, records)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attestations {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    /// Every statement, oldest first. On a date the latest statement in force speaks; on the
    /// same day the office's wins over the firm's.
    pub statements: Vec<AttestationStatement>,
    /// The keys the loaded rules read, with who may state them and where they are read.
    pub keys: Vec<AttestationKey>,
}

/// The firm's attestations and the conditions that can be attested (admin, or the firm's own key).
#[utoipa::path(get, path = "/v1/firms/{id}/attestations", tag = "listing", params(("id" = Uuid, Path)),
    responses((status = 200, body = Attestations), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_attestations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
) -> AppResult<web::Json<Attestations>> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let mut conn = state.db.pool().acquire().await?;
    let (book, tiers) = state.rules.books(&mut conn).await?;
    let records = svc::records(&mut conn, id).await?;
    let keys = svc::attestation_keys(&book, &tiers).into_values().collect();
    Ok(web::Json(Attestations { firm_id: id, statements: records.attestations, keys }))
}

/// State that a qualitative condition holds or not, from a date (and optionally until one), with
/// the supporting document. Statements are never edited: a newer one supersedes. The office's
/// statements are `source: office`; a firm's own are `self_declared` and marked so wherever a
/// verdict rests on them. Office-only keys refuse an enterprise key (403).
#[utoipa::path(post, path = "/v1/firms/{id}/attestations", tag = "listing", params(("id" = Uuid, Path)),
    request_body = AttestationInput,
    responses((status = 201, body = AttestationStatement), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn attest(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<FirmId>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let input: AttestationInput = parse_json(&req, &body)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (book, tiers) = state.rules.books(&mut tx).await?;
    let keys = svc::attestation_keys(&book, &tiers);
    let statement = svc::attest(&mut tx, state.db.dialect(), &keys, id, &input, &caller, now).await?;
    tx.commit().await?;
    tracing::info!(firm_id = %id, key = %statement.key, source = %statement.source, "attestation recorded");
    Ok(HttpResponse::Created().json(statement))
}

/// Write one fiscal year of tier scoring inputs whole (fields left out become unknown).
#[utoipa::path(put, path = "/v1/firms/{id}/tier-inputs/{year}", tag = "listing",
    params(("id" = Uuid, Path), ("year" = i32, Path, description = "Fiscal year, e.g. 2024")),
    request_body = TierInputsInput,
    responses((status = 200, body = TierInputs), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_tier_inputs(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(FirmId, i64)>,
    body: web::Bytes,
) -> AppResult<web::Json<TierInputs>> {
    let (id, year) = path.into_inner();
    caller.require_firm(id)?;
    let input: TierInputsInput = parse_json(&req, &body)?;
    let now = state.clock.now();
    let inputs = input.validate(year, "", svc::source_of(&caller), now.date_naive())?;
    let mut tx = state.db.begin().await?;
    svc::put_tier_inputs(&mut tx, state.db.dialect(), id, &inputs, now).await?;
    tx.commit().await?;
    Ok(web::Json(inputs))
}
