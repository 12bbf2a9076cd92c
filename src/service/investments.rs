//! Recording and changing investment intentions and closed investments.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::domain::investment::{Investment, InvestmentFields};
use crate::error::{AppError, AppResult};
use crate::store::{Conn, events, firms, funds, investments, roadshows};

async fn event(conn: &mut Conn, event_type: &'static str, inv: &Investment, now: DateTime<Utc>) -> AppResult<()> {
    events::record(
        conn,
        events::NewEvent {
            event_type,
            firm_id: Some(inv.firm_id),
            bank_id: None,
            fact_key: None,
            data: json!({
                "investment_id": inv.id,
                "fund_id": inv.fund_id,
                "firm_id": inv.firm_id,
                "roadshow_id": inv.roadshow_id,
                "status": inv.status,
            }),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Records an investment of `fund_id`; the firm, the fund and the roadshow (if named) must exist.
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
    event(conn, "investment.recorded", &inv, now).await?;
    Ok(inv)
}

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
    event(conn, "investment.updated", &inv, now).await?;
    Ok(inv)
}
