//! Fund organisations (the subjects of fund keys).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::row::{Bind, Filter, RowExt};
use crate::db::types::ts;
use crate::domain::roadshow::{Fund, FundFields};
use crate::error::AppResult;

fn from_row(r: &AnyRow) -> Result<Fund, sqlx::Error> {
    Ok(Fund {
        id: r.uuid("id")?,
        name: r.text("name")?,
        kind: r.vocab("kind")?,
        contact_email: r.text("contact_email")?,
        created_at: r.ts("created_at")?,
    })
}

pub async fn insert(conn: &mut Conn, f: &FundFields, now: DateTime<Utc>) -> AppResult<Fund> {
    let fund = Fund {
        id: Uuid::now_v7(),
        name: f.name.clone(),
        kind: f.kind,
        contact_email: f.contact_email.clone(),
        created_at: now,
    };
    sqlx::query("INSERT INTO funds (id, name, kind, contact_email, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(fund.id.to_string())
        .bind(&fund.name)
        .bind(fund.kind.as_str())
        .bind(&fund.contact_email)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(fund)
}

pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Option<Fund>> {
    let row = sqlx::query("SELECT id, name, kind, contact_email, created_at FROM funds WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Funds in id order after `after`; `only` restricts the list to one fund (a fund key's own).
pub async fn list(conn: &mut Conn, only: Option<Uuid>, after: Option<Uuid>, limit: u32) -> AppResult<Vec<Fund>> {
    let mut f = Filter::default();
    if let Some(id) = only {
        f.and("id = {}", Bind::Text(id.to_string()));
    }
    if let Some(a) = after {
        f.and("id > {}", Bind::Text(a.to_string()));
    }
    let sql = format!(
        "SELECT id, name, kind, contact_email, created_at FROM funds{} ORDER BY id LIMIT {limit}",
        f.where_sql()
    );
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
