//! Partner banks.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::row::RowExt;
use crate::db::types::ts;
use crate::domain::bank::{Bank, NewBank};
use crate::domain::ids::BankId;
use crate::error::{AppError, AppResult};

fn from_row(r: &AnyRow) -> Result<Bank, sqlx::Error> {
    Ok(Bank {
        id: r.id("id")?,
        code: r.text("code")?,
        name: r.text("name")?,
        contact_email: Some(r.text("contact_email")?),
        created_at: r.ts("created_at")?,
    })
}

/// Inserts a bank; a code already taken is 409 naming the existing bank.
pub async fn insert(conn: &mut Conn, b: &NewBank, now: DateTime<Utc>) -> AppResult<Bank> {
    let id = BankId::new();
    let done = sqlx::query(
        "INSERT INTO banks (id, code, name, contact_email, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (code) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(&b.code)
    .bind(&b.name)
    .bind(&b.contact_email)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        let existing =
            sqlx::query("SELECT id FROM banks WHERE code = $1").bind(&b.code).fetch_optional(&mut *conn).await?;
        let extra = existing.map(|r| r.uuid("id")).transpose()?.map(|id| serde_json::json!({ "existing_bank_id": id }));
        return Err(AppError::Conflict {
            code: "duplicate_bank_code",
            detail: format!("a bank with code {} is already onboarded", b.code),
            extra,
        });
    }
    get(conn, id).await?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("inserted bank {id} not found")))
}

pub async fn get(conn: &mut Conn, id: BankId) -> AppResult<Option<Bank>> {
    let row = sqlx::query("SELECT id, code, name, contact_email, created_at FROM banks WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn get_by_code(conn: &mut Conn, code: &str) -> AppResult<Option<Bank>> {
    let row = sqlx::query("SELECT id, code, name, contact_email, created_at FROM banks WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Banks in id order after `after`.
pub async fn list(conn: &mut Conn, after: Option<Uuid>, limit: u32) -> AppResult<Vec<Bank>> {
    let sql =
        format!("SELECT id, code, name, contact_email, created_at FROM banks WHERE id > $1 ORDER BY id LIMIT {limit}");
    let rows = sqlx::query(&sql).bind(after.map(|a| a.to_string()).unwrap_or_default()).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Names of the given banks (for views that show a bank next to a product).
pub async fn names(conn: &mut Conn) -> AppResult<std::collections::HashMap<BankId, String>> {
    let rows = sqlx::query("SELECT id, name FROM banks").fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.id("id")?, r.text("name")?))).collect::<Result<_, sqlx::Error>>().map_err(Into::into)
}
