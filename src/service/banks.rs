//! Partner banks as the office onboards them, their API keys, and the LPR table.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::ids::BankId;

use crate::db::Db;
use crate::domain::access::{Principal, Role};
use crate::domain::bank::{Bank, NewBank};
use crate::domain::product::LprFixing;
use crate::error::{AppError, AppResult};
use crate::store::keys::ApiKeyInfo;
use crate::store::{Conn, banks, keys, lpr};

/// Onboards a bank; a taken bank code is a conflict.
#[tracing::instrument(skip_all)]
pub async fn create(db: &Db, new: &NewBank, now: DateTime<Utc>) -> AppResult<Bank> {
    let mut tx = db.begin().await?;
    let bank = banks::insert(&mut tx, new, now).await?;
    tx.commit().await?;
    tracing::info!(bank_id = %bank.id, "bank onboarded");
    Ok(bank)
}

/// The banks the caller may see: a bank key its own bank, every other role all of them.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn list_as(conn: &mut Conn, caller: &Principal, after: Option<Uuid>, limit: u32) -> AppResult<Vec<Bank>> {
    match caller.bank_id() {
        Some(own) => {
            Ok(banks::get(conn, own).await?.into_iter().filter(|b| after.is_none_or(|a| b.id.uuid() > a)).collect())
        }
        None => banks::list(conn, after, limit).await,
    }
}

/// One bank; another bank's is not found for a bank key.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn get_as(conn: &mut Conn, caller: &Principal, id: BankId) -> AppResult<Bank> {
    if caller.role() == Role::Bank && caller.bank_id() != Some(id) {
        return Err(AppError::not_found("bank"));
    }
    banks::get(conn, id).await?.ok_or(AppError::not_found("bank"))
}

/// Issues an API key that acts for the bank alone; returns its record and the key, shown once.
#[tracing::instrument(skip_all, fields(bank_id = %bank_id))]
pub async fn issue_key(
    db: &Db,
    bank_id: BankId,
    label: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<(ApiKeyInfo, String)> {
    let mut tx = db.begin().await?;
    let bank = banks::get(&mut tx, bank_id).await?.ok_or(AppError::not_found("bank"))?;
    let label = label.unwrap_or_else(|| format!("{} API key", bank.code));
    let (info, key) = keys::create(&mut tx, Role::Bank, Some(bank_id.uuid()), &label, now).await?;
    tx.commit().await?;
    tracing::info!(key_id = %info.id, "bank key issued");
    Ok((info, key))
}

/// The LPR fixings, newest first.
#[tracing::instrument(skip_all)]
pub async fn lpr_table(conn: &mut Conn) -> AppResult<Vec<LprFixing>> {
    lpr::list(conn).await
}

/// Records or corrects the fixing of its date; `true` when the date had none.
#[tracing::instrument(skip_all, fields(effective_on = %fixing.effective_on))]
pub async fn put_lpr(db: &Db, fixing: &LprFixing, now: DateTime<Utc>) -> AppResult<bool> {
    let mut tx = db.begin().await?;
    let created = lpr::put(&mut tx, fixing, now).await?;
    tx.commit().await?;
    Ok(created)
}
