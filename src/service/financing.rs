//! An enterprise's financing status: everything about one firm's road to credit, in one answer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::domain::access::Principal;
use crate::domain::application::ApplicationStatus;
use crate::domain::events::EventKind;
use crate::domain::ids::{BankId, FirmId};
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent};
use crate::service::matches::{FirmMatch, firm_matches};
use crate::service::matching;
use crate::service::roadshows::FirmSlot;
use crate::store::applications::{self, AppFilter, Application, Scope};
use crate::store::consents::{self, ConsentRecord};
use crate::store::{Conn, banks, firm_finance};

#[derive(Debug, Serialize, ToSchema)]
pub struct BankRef {
    #[schema(value_type = Uuid)]
    pub id: BankId,
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
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
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
    pub roadshow_slots: Vec<FirmSlot>,
    /// Listing progress on every venue where the firm has a recorded milestone.
    pub listing_stage: Vec<crate::domain::listing_stage::Progress>,
}

/// The firm's financing status (the enterprise itself, the office).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn status(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: FirmId,
    now: DateTime<Utc>,
) -> AppResult<FinancingStatus> {
    caller.require_firm(firm_id)?;
    let (lead_bank_id, tutoring_whitelist) =
        firm_finance::flags(conn, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    let lead_bank = match lead_bank_id {
        Some(b) => banks::get(conn, b).await?.map(|b| BankRef { id: b.id, name: b.name }),
        None => None,
    };
    let mut apps = Vec::new();
    let mut after = None;
    loop {
        let page = applications::list(conn, Scope::Firm(firm_id), &AppFilter::default(), after, 500).await?;
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
    let fm = firm_matches(conn, firm_id, None, now).await?;
    let consents = consents::for_firm(conn, firm_id, now).await?;
    let roadshow_slots = crate::store::roadshows::slots_of_firm(conn, firm_id, !caller.is_admin())
        .await?
        .into_iter()
        .map(|(slot, roadshow)| FirmSlot { roadshow, slot })
        .collect();
    let listing_stage = crate::service::listing::progress_all(conn, firm_id, now.date_naive())
        .await?
        .into_iter()
        .filter(|p| p.current.is_some())
        .collect();
    Ok(FinancingStatus {
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
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinancingFlags {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    #[schema(value_type = Option<Uuid>)]
    pub lead_bank_id: Option<BankId>,
    pub tutoring_whitelist: bool,
}

/// Designates (or, with `None`, clears) the firm's lead bank; lead-bank-only products follow at once.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn set_lead_bank(
    db: &Db,
    firm_id: FirmId,
    bank_id: Option<BankId>,
    now: DateTime<Utc>,
) -> AppResult<FinancingFlags> {
    let mut tx = db.begin().await?;
    let (current, tutoring_whitelist) =
        firm_finance::flags(&mut tx, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    if let Some(b) = bank_id
        && banks::get(&mut tx, b).await?.is_none()
    {
        return Err(AppError::field("bank_id", "not_found", format!("no partner bank with id {b}")));
    }
    let flags = if current == bank_id {
        FinancingFlags { firm_id, lead_bank_id: current, tutoring_whitelist }
    } else {
        firm_finance::set_lead_bank(&mut tx, firm_id, bank_id, now).await?;
        flags_changed(db, &mut tx, firm_id, "lead_bank_id", now).await?
    };
    tx.commit().await?;
    Ok(flags)
}

/// Puts the firm on, or takes it off, the financial-tutoring whitelist.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id, whitelisted))]
pub async fn set_tutoring(
    db: &Db,
    firm_id: FirmId,
    whitelisted: bool,
    now: DateTime<Utc>,
) -> AppResult<FinancingFlags> {
    let mut tx = db.begin().await?;
    let (lead_bank_id, current) = firm_finance::flags(&mut tx, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    let flags = if current == whitelisted {
        FinancingFlags { firm_id, lead_bank_id, tutoring_whitelist: current }
    } else {
        firm_finance::set_tutoring(&mut tx, firm_id, whitelisted, now).await?;
        flags_changed(db, &mut tx, firm_id, "tutoring_whitelist", now).await?
    };
    tx.commit().await?;
    Ok(flags)
}

/// Records the change (so matching and webhooks follow) and answers the flags as they now stand.
async fn flags_changed(
    db: &Db,
    tx: &mut Conn,
    firm_id: FirmId,
    field: &'static str,
    now: DateTime<Utc>,
) -> AppResult<FinancingFlags> {
    let data = serde_json::json!({ "firm_id": firm_id, "changed": [field] });
    events::record(tx, NewEvent::firm_change(EventKind::FirmUpdated, firm_id, data), now).await?;
    matching::refresh_firm(tx, db.dialect(), firm_id, now).await?;
    let (lead_bank_id, tutoring_whitelist) =
        firm_finance::flags(tx, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    Ok(FinancingFlags { firm_id, lead_bank_id, tutoring_whitelist })
}
