//! Recording and changing investment intentions and closed investments.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::domain::access::{ActsFor, Principal};
use crate::domain::events::EventKind;
use crate::domain::investment::{Investment, InvestmentFields, InvestmentInput};
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent};
pub use crate::store::investments::InvestmentFilter;
use crate::store::{Conn, firms, funds, investments, roadshows};

async fn event(conn: &mut Conn, kind: EventKind, inv: &Investment, now: DateTime<Utc>) -> AppResult<()> {
    events::record(
        conn,
        NewEvent::firm_change(
            kind,
            inv.firm_id,
            json!({
                "investment_id": inv.id,
                "fund_id": inv.fund_id,
                "firm_id": inv.firm_id,
                "roadshow_id": inv.roadshow_id,
                "status": inv.status,
            }),
        ),
        now,
    )
    .await?;
    Ok(())
}

/// Records an investment of `fund_id`; the firm, the fund and the roadshow (if named) must exist.
#[tracing::instrument(skip_all, fields(fund_id = %fund_id))]
pub async fn record(conn: &mut Conn, fund_id: Uuid, f: &InvestmentFields, now: DateTime<Utc>) -> AppResult<Investment> {
    let mut missing = Vec::new();
    if funds::get(conn, fund_id).await?.is_none() {
        missing.push(crate::domain::validate::FieldError::new(
            "fund_id",
            "not_found",
            format!("no fund with id {fund_id}"),
        ));
    }
    if firms::get(conn, f.firm_id).await?.is_none() {
        missing.push(crate::domain::validate::FieldError::new(
            "firm_id",
            "not_found",
            format!("no firm with id {}", f.firm_id),
        ));
    }
    if let Some(r) = f.roadshow_id
        && roadshows::get(conn, r).await?.is_none_or(|rs| !rs.status.public())
    {
        missing.push(crate::domain::validate::FieldError::new(
            "roadshow_id",
            "not_found",
            format!("no roadshow with id {r}"),
        ));
    }
    if !missing.is_empty() {
        return Err(AppError::Validation(missing));
    }
    let inv = investments::insert(conn, fund_id, f, now).await?;
    event(conn, EventKind::InvestmentRecorded, &inv, now).await?;
    Ok(inv)
}

#[tracing::instrument(skip_all)]
pub async fn update(
    conn: &mut Conn,
    current: &Investment,
    f: &InvestmentFields,
    now: DateTime<Utc>,
) -> AppResult<Investment> {
    if InvestmentFields::of(current) == *f {
        return Ok(current.clone());
    }
    let inv = investments::update(conn, current.id, f, now).await?;
    event(conn, EventKind::InvestmentUpdated, &inv, now).await?;
    Ok(inv)
}

/// Whether the caller may see this investment: the office, its fund, or its firm.
fn may_see(caller: &Principal, inv: &Investment) -> bool {
    match caller.acts_for {
        ActsFor::Admin => true,
        ActsFor::Fund(own) => own == inv.fund_id,
        ActsFor::Enterprise(own) => own == inv.firm_id,
        ActsFor::Bank(_) => false,
    }
}

/// One investment, if the caller may see it (otherwise not found).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn get_as(conn: &mut Conn, caller: &Principal, id: Uuid) -> AppResult<Investment> {
    match investments::get(conn, id).await? {
        Some(inv) if may_see(caller, &inv) => Ok(inv),
        _ => Err(AppError::not_found("investment")),
    }
}

/// Records an investment as the caller: a fund for itself, the office for a named fund.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn record_as(
    conn: &mut Conn,
    caller: &Principal,
    input: &InvestmentInput,
    now: DateTime<Utc>,
) -> AppResult<Investment> {
    let fund_id = caller
        .acting_fund(input.fund_id)?
        .ok_or_else(|| AppError::field("fund_id", "required", "say which fund invests"))?;
    let fields = input.validate_onto(None, now.date_naive())?;
    record(conn, fund_id, &fields, now).await
}

/// Investments the caller may see: a fund its own, an enterprise those in its firm, the office all.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn list_as(
    conn: &mut Conn,
    caller: &Principal,
    mut filter: investments::InvestmentFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Investment>> {
    match caller.acts_for {
        ActsFor::Admin => {}
        ActsFor::Fund(own) => filter.fund_id = Some(own),
        ActsFor::Enterprise(own) => filter.firm_id = Some(own),
        ActsFor::Bank(_) => return Err(AppError::Forbidden("a bank key cannot read investments".into())),
    }
    if let Some(y) = filter.year
        && !(1990..=2100).contains(&y)
    {
        return Err(AppError::field("year", "out_of_range", "must be between 1990 and 2100"));
    }
    investments::list(conn, &filter, after, limit).await
}

/// Like [`list_as`], each with its firm's name (for people).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn list_named_as(
    conn: &mut Conn,
    caller: &Principal,
    filter: investments::InvestmentFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<(Investment, String)>> {
    let items = list_as(conn, caller, filter, after, limit).await?;
    let mut names = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for inv in items {
        let name = match names.get(&inv.firm_id) {
            Some(n) => String::clone(n),
            None => {
                let n = firms::get(conn, inv.firm_id).await?.map(|f| f.name).unwrap_or_default();
                names.insert(inv.firm_id, n.clone());
                n
            }
        };
        out.push((inv, name));
    }
    Ok(out)
}
