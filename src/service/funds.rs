//! Fund organisations as the office onboards them, and their managers' API keys.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Db;
use crate::domain::access::{ActsFor, Principal, Role};
use crate::domain::roadshow::{Fund, FundFields};
use crate::error::{AppError, AppResult};
use crate::store::keys::ApiKeyInfo;
use crate::store::{Conn, funds, keys};

/// Onboards a fund.
#[tracing::instrument(skip_all)]
pub async fn create(db: &Db, fields: &FundFields, now: DateTime<Utc>) -> AppResult<Fund> {
    let mut tx = db.begin().await?;
    let fund = funds::insert(&mut tx, fields, now).await?;
    tx.commit().await?;
    tracing::info!(fund_id = %fund.id, kind = %fund.kind, "fund onboarded");
    Ok(fund)
}

/// Which funds the caller may list: the office all (`None`), a fund key its own.
pub fn listable(caller: &Principal) -> AppResult<Option<Uuid>> {
    match caller.acts_for {
        ActsFor::Admin => Ok(None),
        ActsFor::Fund(own) => Ok(Some(own)),
        _ => Err(AppError::Forbidden(format!("a {} key cannot list funds", caller.role()))),
    }
}

/// Funds by id, `only` one of them or all.
#[tracing::instrument(skip_all)]
pub async fn list(conn: &mut Conn, only: Option<Uuid>, after: Option<Uuid>, limit: u32) -> AppResult<Vec<Fund>> {
    funds::list(conn, only, after, limit).await
}

/// One fund.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Fund> {
    funds::get(conn, id).await?.ok_or(AppError::not_found("fund"))
}

/// Issues an API key for one of the fund's managers; returns its record and the key, shown once.
#[tracing::instrument(skip_all, fields(fund_id = %fund_id))]
pub async fn issue_key(
    db: &Db,
    fund_id: Uuid,
    label: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<(ApiKeyInfo, String)> {
    let mut tx = db.begin().await?;
    let fund = funds::get(&mut tx, fund_id).await?.ok_or(AppError::not_found("fund"))?;
    let label = label.unwrap_or_else(|| format!("{} manager", fund.name));
    let (info, key) = keys::create(&mut tx, Role::Fund, Some(fund_id), &label, now).await?;
    tx.commit().await?;
    tracing::info!(key_id = %info.id, "fund key issued");
    Ok((info, key))
}
