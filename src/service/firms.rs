//! Creating and changing firms and their financials.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::db::Dialect;
use crate::domain::access::{ActsFor, Principal, Role};
use crate::domain::events::EventKind;
use crate::domain::firm::{FinancialYear, FinancialsInput, Firm, FirmFields, FirmInput};
use crate::domain::ids::FirmId;
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent};
pub use crate::store::firms::FirmFilter;
use crate::store::{Conn, financials, firms};

/// Names of the fields that differ, for event payloads (values of contact fields are never put
/// in events: receivers fetch what they are allowed to see through the API).
pub fn changed_fields(before: &FirmFields, after: &FirmFields) -> Vec<&'static str> {
    // One list makes both the pattern, which names every field without `..`, and the comparisons:
    // a field added to `FirmFields` does not compile until it is listed, so no change goes
    // without its event.
    macro_rules! changed {
        ($($field:ident),+ $(,)?) => {{
            let FirmFields { $($field),+ } = before;
            let mut changed = Vec::new();
            $(if *$field != after.$field {
                changed.push(stringify!($field));
            })+
            changed
        }};
    }
    changed!(
        credit_code,
        name,
        city,
        district,
        industry_code,
        tier,
        tier_recognized_year,
        founded_on,
        expected_market_value,
        neeq_listed_on,
        neeq_layer,
        tax_credit_grade,
        contact_name,
        contact_email,
        contact_phone,
    )
}

#[tracing::instrument(skip_all)]
pub async fn create(conn: &mut Conn, fields: &FirmFields, now: DateTime<Utc>) -> AppResult<Firm> {
    let firm = firms::insert(conn, fields, now).await?;
    let data = json!({ "firm_id": firm.id, "city": firm.city, "tier": firm.tier, "industry_code": firm.industry_code });
    let key = format!("firm:{}:created", firm.id);
    events::record(conn, NewEvent::fact(EventKind::FirmCreated, Some(firm.id), None, key, data), now).await?;
    Ok(firm)
}

/// Applies new field values; records an event only when something changed.
#[tracing::instrument(skip_all)]
pub async fn update(
    conn: &mut Conn,
    current: &Firm,
    fields: &FirmFields,
    now: DateTime<Utc>,
) -> AppResult<(Firm, Vec<&'static str>)> {
    let changed = changed_fields(&FirmFields::of(current), fields);
    if changed.is_empty() {
        return Ok((current.clone(), changed));
    }
    let firm = firms::update(conn, current.id, fields, now).await?;
    let data = json!({ "firm_id": firm.id, "changed": changed });
    events::record(conn, NewEvent::firm_change(EventKind::FirmUpdated, firm.id, data), now).await?;
    Ok((firm, changed))
}

#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn put_financials(
    conn: &mut Conn,
    firm_id: FirmId,
    fy: &FinancialYear,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    let changed = financials::upsert(conn, firm_id, fy, now).await?;
    if changed {
        let data = json!({ "firm_id": firm_id, "fiscal_year": fy.fiscal_year });
        events::record(conn, NewEvent::firm_change(EventKind::FinancialsUpdated, firm_id, data), now).await?;
    }
    Ok(changed)
}

/// Changes some of a firm's fields as the caller (the enterprise itself, the office); the
/// matches follow before the transaction commits. An enterprise cannot change its credit code.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn patch_as(
    conn: &mut Conn,
    dialect: Dialect,
    caller: &Principal,
    id: FirmId,
    input: &FirmInput,
    now: DateTime<Utc>,
) -> AppResult<Firm> {
    caller.require_firm(id)?;
    if caller.role() == Role::Enterprise && input.credit_code.is_some() {
        return Err(AppError::Forbidden("an enterprise cannot change its credit code; ask the office".into()));
    }
    let current = firms::get(conn, id).await?.ok_or(AppError::not_found("firm"))?;
    let before = FirmFields::of(&current);
    let fields = input.validate_onto(Some(&before), now.date_naive())?;
    let recognitions = fields.changed_recognitions(&before);
    if caller.role() == Role::Enterprise && !recognitions.is_empty() {
        return Err(AppError::Forbidden(format!(
            "an enterprise cannot change {}: recognitions are recorded by the office",
            recognitions.join(", ")
        )));
    }
    let (firm, changed) = update(conn, &current, &fields, now).await?;
    if !changed.is_empty() {
        crate::service::matching::refresh_firm(conn, dialect, id, now).await?;
    }
    tracing::info!(firm_id = %id, changed = ?changed, "firm updated");
    Ok(firm)
}

/// Writes one fiscal year of a firm's financials whole, as the caller (the enterprise itself, the office).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn put_financials_as(
    conn: &mut Conn,
    dialect: Dialect,
    caller: &Principal,
    id: FirmId,
    year: i64,
    input: &FinancialsInput,
    now: DateTime<Utc>,
) -> AppResult<FinancialYear> {
    caller.require_firm(id)?;
    let fy = input.validate(year, "", now.date_naive())?;
    if put_financials(conn, id, &fy, now).await? {
        crate::service::matching::refresh_firm(conn, dialect, id, now).await?;
    }
    Ok(fy)
}

/// A firm as the caller may see it, with its financials oldest first.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn get_as(conn: &mut Conn, caller: &Principal, id: FirmId) -> AppResult<(Firm, Vec<FinancialYear>)> {
    caller.require_firm(id)?;
    let firm = firms::get(conn, id).await?.ok_or(AppError::not_found("firm"))?;
    let years = financials::list(conn, id).await?;
    Ok((firm, years))
}

/// The firms the caller may list: the office all (filtered), an enterprise only its own.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn list_as(
    conn: &mut Conn,
    caller: &Principal,
    filter: &FirmFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Firm>> {
    match caller.acts_for {
        ActsFor::Admin => firms::list(conn, filter, after, limit).await,
        ActsFor::Enterprise(own) => {
            let firm = if after.is_none_or(|a| own.uuid() > a) { firms::get(conn, own).await? } else { None };
            Ok(firm.into_iter().collect())
        }
        _ => Err(AppError::Forbidden(format!("a {} key cannot list firms", caller.role()))),
    }
}

/// One firm, if it exists.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(conn: &mut Conn, id: FirmId) -> AppResult<Firm> {
    firms::get(conn, id).await?.ok_or(AppError::not_found("firm"))
}

/// A firm's yearly financials, oldest first (404 for a firm that does not exist).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn financials(conn: &mut Conn, id: FirmId) -> AppResult<Vec<FinancialYear>> {
    if firms::get(conn, id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    financials::list(conn, id).await
}
