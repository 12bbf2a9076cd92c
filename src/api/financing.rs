//! An enterprise's financing status, the office's lead-bank (主办行) and financial-tutoring
//! (金融辅导) designations, and the full rematch.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::matches::{FirmMatch, firm_matches};
use super::parse_json;
use super::problem::Problem;
use crate::domain::application::ApplicationStatus;
use crate::domain::validate::nullable;
use crate::error::{AppError, AppResult};
use crate::service::matching::{self, RematchReport};
use crate::store::applications::{self, AppFilter, Application, Scope};
use crate::store::consents::{self, ConsentRecord};
use crate::store::{banks, events, firm_finance};

#[derive(Debug, Serialize, ToSchema)]
pub struct BankRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinancingTotals {
    pub applications: usize,
    /// Submitted, under review or approved (not yet disbursed).
    pub open: usize,
    /// Applications per status.
    pub by_status: BTreeMap<ApplicationStatus, usize>,
    #[schema(value_type = String, example = "5000000.00")]
    pub requested: Decimal,
    /// Sum of approvals (approved and disbursed applications).
    #[schema(value_type = String, example = "3000000.00")]
    pub approved: Decimal,
    #[schema(value_type = String, example = "3000000.00")]
    pub disbursed: Decimal,
}

/// Everything about one firm's road to credit, in one answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FinancingStatus {
    pub firm_id: Uuid,
    pub as_of: DateTime<Utc>,
    /// The firm's lead bank (主办行), if the office designated one.
    pub lead_bank: Option<BankRef>,
    /// On the financial-tutoring whitelist (金融辅导白名单).
    pub tutoring_whitelist: bool,
    /// Every application with its current stage, oldest first.
    pub applications: Vec<Application>,
    pub totals: FinancingTotals,
    /// Products the firm qualifies for now, best score first.
    pub matched_products: Vec<FirmMatch>,
    /// Open products the firm misses by one or two rules (see `GET /v1/firms/{id}/matches`).
    pub near_misses: usize,
    pub consents: Vec<ConsentRecord>,
    /// The firm's presenting slots at roadshows (published roadshows only, for the firm's own key).
    pub roadshow_slots: Vec<crate::api::roadshows::FirmSlot>,
    /// Listing progress on every venue where the firm has a recorded milestone.
    pub listing_stage: Vec<crate::domain::listing_stage::Progress>,
}

/// The firm's financing status: applications and their stages, totals requested, approved and
/// disbursed, matched products, consents (enterprise itself, office).
#[utoipa::path(get, path = "/v1/firms/{id}/financing-status", tag = "applications", params(("id" = Uuid, Path)),
    responses((status = 200, body = FinancingStatus), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn financing_status(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<FinancingStatus>> {
    let firm_id = id.into_inner();
    caller.require_firm(firm_id)?;
    let now = state.clock.now();
    let mut conn = state.db.pool().acquire().await?;
    let (lead_bank_id, tutoring_whitelist) =
        firm_finance::flags(&mut conn, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    let lead_bank = match lead_bank_id {
        Some(b) => banks::get(&mut conn, b).await?.map(|b| BankRef { id: b.id, name: b.name }),
        None => None,
    };
    let mut apps = Vec::new();
    let mut after = None;
    loop {
        let page = applications::list(&mut conn, Scope::Firm(firm_id), &AppFilter::default(), after, 500).await?;
        after = page.last().map(|a| a.id);
        let n = page.len();
        apps.extend(page);
        if n < 500 {
            break;
        }
    }
    let mut totals = FinancingTotals {
        applications: apps.len(),
        open: 0,
        by_status: BTreeMap::new(),
        requested: Decimal::ZERO,
        approved: Decimal::ZERO,
        disbursed: Decimal::ZERO,
    };
    for a in &apps {
        *totals.by_status.entry(a.status).or_default() += 1;
        if matches!(
            a.status,
            ApplicationStatus::Submitted | ApplicationStatus::UnderReview | ApplicationStatus::Approved
        ) {
            totals.open += 1;
        }
        totals.requested += a.amount;
        if let Some(x) = &a.approval {
            totals.approved += x.amount;
        }
        if let Some(x) = &a.disbursal {
            totals.disbursed += x.amount;
        }
    }
    for d in [&mut totals.requested, &mut totals.approved, &mut totals.disbursed] {
        d.rescale(2);
    }
    let fm = firm_matches(&mut conn, firm_id, None, now).await?;
    let consents = consents::for_firm(&mut conn, firm_id, now).await?;
    let roadshow_slots = crate::store::roadshows::slots_of_firm(&mut conn, firm_id, !caller.is_admin())
        .await?
        .into_iter()
        .map(|(slot, roadshow)| crate::api::roadshows::FirmSlot { roadshow, slot })
        .collect();
    let listing_stage = crate::service::listing::progress_all(&mut conn, firm_id, now.date_naive())
        .await?
        .into_iter()
        .filter(|p| p.current.is_some())
        .collect();
    Ok(web::Json(FinancingStatus {
        firm_id,
        as_of: now,
        lead_bank,
        tutoring_whitelist,
        applications: apps,
        totals,
        matched_products: fm.matches,
        near_misses: fm.near_misses.len(),
        consents,
        roadshow_slots,
        listing_stage,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadBankRequest {
    /// The lead bank, or `null` to clear it. Required.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, required = true)]
    pub bank_id: Option<Option<Uuid>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TutoringRequest {
    /// Whether the firm is on the financial-tutoring whitelist.
    pub whitelisted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinancingFlags {
    pub firm_id: Uuid,
    pub lead_bank_id: Option<Uuid>,
    pub tutoring_whitelist: bool,
}

async fn flags_changed(
    state: &AppState,
    tx: &mut crate::store::Conn,
    firm_id: Uuid,
    field: &'static str,
    now: DateTime<Utc>,
) -> AppResult<FinancingFlags> {
    events::record(
        tx,
        events::NewEvent {
            event_type: "firm.updated",
            firm_id: Some(firm_id),
            bank_id: None,
            fact_key: None,
            data: json!({ "firm_id": firm_id, "changed": [field] }),
        },
        now,
    )
    .await?;
    matching::refresh_firm(tx, state.db.dialect(), firm_id, now).await?;
    let (lead_bank_id, tutoring_whitelist) =
        firm_finance::flags(tx, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    Ok(FinancingFlags { firm_id, lead_bank_id, tutoring_whitelist })
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
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<FinancingFlags>> {
    caller.require_admin()?;
    let firm_id = id.into_inner();
    let body: LeadBankRequest = parse_json(&req, &body)?;
    let Some(bank_id) = body.bank_id else {
        return Err(AppError::field("bank_id", "required", "give a bank id, or null to clear the lead bank"));
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (current, _) = firm_finance::flags(&mut tx, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    if let Some(b) = bank_id
        && banks::get(&mut tx, b).await?.is_none()
    {
        return Err(AppError::field("bank_id", "not_found", format!("no partner bank with id {b}")));
    }
    let flags = if current == bank_id {
        let (lead_bank_id, tutoring_whitelist) = firm_finance::flags(&mut tx, firm_id).await?.unwrap_or_default();
        FinancingFlags { firm_id, lead_bank_id, tutoring_whitelist }
    } else {
        firm_finance::set_lead_bank(&mut tx, firm_id, bank_id, now).await?;
        flags_changed(&state, &mut tx, firm_id, "lead_bank_id", now).await?
    };
    tx.commit().await?;
    Ok(web::Json(flags))
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
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<FinancingFlags>> {
    caller.require_admin()?;
    let firm_id = id.into_inner();
    let body: TutoringRequest = parse_json(&req, &body)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (lead_bank_id, current) = firm_finance::flags(&mut tx, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    let flags = if current == body.whitelisted {
        FinancingFlags { firm_id, lead_bank_id, tutoring_whitelist: current }
    } else {
        firm_finance::set_tutoring(&mut tx, firm_id, body.whitelisted, now).await?;
        flags_changed(&state, &mut tx, firm_id, "tutoring_whitelist", now).await?
    };
    tx.commit().await?;
    Ok(web::Json(flags))
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
