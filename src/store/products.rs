//! Loan products. Rows are never deleted: withdrawing a product sets `active = false`.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::domain::ids::BankId;

use super::Conn;
use crate::db::row::{Bind, Filter, RowExt, list_placeholders};
use crate::db::types::{day, fen, opt_fen, ts};
use crate::domain::product::{LoanProduct, ProductKind, ProductTerms};
use crate::error::{AppError, AppResult};

pub const COLUMNS: &str = "p.id, p.bank_id, p.name, p.kind, p.amount_min, p.amount_max, p.term_months_min, \
    p.term_months_max, p.rate_spread_bp, p.lpr_tenor, p.fixed_rate, p.collateral, p.eligibility, p.valid_from, \
    p.valid_to, p.active, p.version, p.created_at, p.updated_at";

pub fn from_row(r: &AnyRow) -> Result<LoanProduct, sqlx::Error> {
    Ok(LoanProduct {
        id: r.uuid("id")?,
        bank_id: r.id("bank_id")?,
        name: r.text("name")?,
        kind: r.vocab("kind")?,
        amount_min: r.opt_money("amount_min")?,
        amount_max: r.money("amount_max")?,
        term_months_min: r.opt_int("term_months_min")?.map(|v| v as i32),
        term_months_max: r.int("term_months_max")? as i32,
        rate_spread_bp: r.opt_int("rate_spread_bp")?.map(|v| v as i32),
        lpr_tenor: r.opt_vocab("lpr_tenor")?,
        fixed_rate: r.opt_decimal("fixed_rate")?,
        collateral: r.json("collateral")?,
        eligibility: r.json("eligibility")?,
        valid_from: r.opt_day("valid_from")?,
        valid_to: r.opt_day("valid_to")?,
        active: r.flag("active")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn money_err(field: &'static str) -> impl Fn(crate::db::types::MoneyOutOfRange) -> AppError {
    move |e| AppError::field(field, "out_of_range", e.to_string())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the terms in the column order insert and update share: name, kind, amount_min,
/// amount_max, term_months_min, term_months_max, rate_spread_bp, lpr_tenor, fixed_rate,
/// collateral, eligibility, valid_from, valid_to.
fn bind_terms<'q>(q: Query<'q>, t: &'q ProductTerms) -> AppResult<Query<'q>> {
    let (spread, tenor, fixed) = t.pricing.wire();
    Ok(q.bind(&t.name)
        .bind(t.kind.as_str())
        .bind(opt_fen(t.amount_min).map_err(money_err("amount_min"))?)
        .bind(fen(t.amount_max).map_err(money_err("amount_max"))?)
        .bind(t.term_months_min.map(i64::from))
        .bind(i64::from(t.term_months_max))
        .bind(spread.map(i64::from))
        .bind(tenor.map(|x| x.as_str()))
        .bind(fixed.map(|r| r.normalize().to_string()))
        .bind(serde_json::to_string(&t.collateral).map_err(|e| AppError::Internal(e.into()))?)
        .bind(serde_json::to_string(&t.eligibility).map_err(|e| AppError::Internal(e.into()))?)
        .bind(t.valid_from.map(day))
        .bind(t.valid_to.map(day)))
}

pub async fn insert(conn: &mut Conn, bank_id: BankId, t: &ProductTerms, now: DateTime<Utc>) -> AppResult<LoanProduct> {
    let id = Uuid::now_v7();
    bind_terms(
        sqlx::query(
            "INSERT INTO products (id, bank_id, name, kind, amount_min, amount_max, term_months_min, \
             term_months_max, rate_spread_bp, lpr_tenor, fixed_rate, collateral, eligibility, valid_from, valid_to, \
             active, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $17)",
        )
        .bind(id.to_string())
        .bind(bank_id.to_string()),
        t,
    )?
    .bind(true)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    get(conn, id).await?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("inserted product {id} not found")))
}

/// Replaces the terms; returns the product and its new version.
pub async fn update(conn: &mut Conn, id: Uuid, t: &ProductTerms, now: DateTime<Utc>) -> AppResult<(LoanProduct, i64)> {
    let row = bind_terms(
        sqlx::query(
            "UPDATE products SET name = $2, kind = $3, amount_min = $4, amount_max = $5, term_months_min = $6, \
             term_months_max = $7, rate_spread_bp = $8, lpr_tenor = $9, fixed_rate = $10, collateral = $11, \
             eligibility = $12, valid_from = $13, valid_to = $14, version = version + 1, updated_at = $15 \
             WHERE id = $1 RETURNING version",
        )
        .bind(id.to_string()),
        t,
    )?
    .bind(ts(now))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::not_found("product"))?;
    let version = row.int("version")?;
    let p = get(conn, id).await?.ok_or(AppError::not_found("product"))?;
    Ok((p, version))
}

/// Withdraws a product (soft delete). Returns the new version, or `None` if it was already withdrawn.
pub async fn withdraw(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> AppResult<Option<i64>> {
    let row = sqlx::query(
        "UPDATE products SET active = $2, withdrawn_at = $3, updated_at = $3, version = version + 1 \
         WHERE id = $1 AND active = $4 RETURNING version",
    )
    .bind(id.to_string())
    .bind(false)
    .bind(ts(now))
    .bind(true)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| r.int("version")).transpose()?)
}

pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Option<LoanProduct>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM products p WHERE p.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// (id, version) of the given products.
pub async fn versions_of(conn: &mut Conn, ids: &[Uuid]) -> AppResult<Vec<(Uuid, i64)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!("SELECT id, version FROM products WHERE id IN ({})", list_placeholders(chunk.len(), 1));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push((r.uuid("id")?, r.int("version")?));
        }
    }
    Ok(out)
}

/// (id, version) of every active product, optionally of one bank, in id order.
pub async fn active_versions(conn: &mut Conn, bank_id: Option<BankId>) -> AppResult<Vec<(Uuid, i64)>> {
    let mut f = Filter::default();
    f.and("p.active = {}", Bind::Bool(true));
    if let Some(b) = bank_id {
        f.and("p.bank_id = {}", Bind::Text(b.to_string()));
    }
    let sql = format!("SELECT p.id, p.version FROM products p{} ORDER BY p.id", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(|r| Ok((r.uuid("id")?, r.int("version")?))).collect::<Result<_, sqlx::Error>>()?)
}

/// Products with their versions.
pub async fn get_many_versioned(conn: &mut Conn, ids: &[Uuid]) -> AppResult<Vec<(LoanProduct, i64)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!("SELECT {COLUMNS} FROM products p WHERE p.id IN ({})", list_placeholders(chunk.len(), 1));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push((from_row(&r)?, r.int("version")?));
        }
    }
    Ok(out)
}

/// Every active product (the matching engine's catalogue), optionally of one bank.
pub async fn active(conn: &mut Conn, bank_id: Option<BankId>) -> AppResult<Vec<LoanProduct>> {
    let mut f = Filter::default();
    f.and("p.active = {}", Bind::Bool(true));
    if let Some(b) = bank_id {
        f.and("p.bank_id = {}", Bind::Text(b.to_string()));
    }
    let sql = format!("SELECT {COLUMNS} FROM products p{} ORDER BY p.id", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub bank_id: Option<BankId>,
    pub kind: Option<ProductKind>,
    pub active: Option<bool>,
}

pub async fn list(
    conn: &mut Conn,
    filter: &ProductFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<LoanProduct>> {
    let mut f = Filter::default();
    if let Some(b) = filter.bank_id {
        f.and("p.bank_id = {}", Bind::Text(b.to_string()));
    }
    if let Some(k) = filter.kind {
        f.and("p.kind = {}", Bind::Text(k.as_str().into()));
    }
    if let Some(a) = filter.active {
        f.and("p.active = {}", Bind::Bool(a));
    }
    if let Some(a) = after {
        f.and("p.id > {}", Bind::Text(a.to_string()));
    }
    let sql = format!("SELECT {COLUMNS} FROM products p{} ORDER BY p.id LIMIT {limit}", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
