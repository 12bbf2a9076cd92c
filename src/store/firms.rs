//! The firm registry.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::Dialect;
use crate::db::row::{Bind, Filter, RowExt, like_escape, list_placeholders, values_placeholders};
use crate::db::types::{day, opt_fen, ts};
use crate::domain::firm::{City, Firm, FirmFields, NeeqLayer, Tier, Venue};
use crate::domain::ids::FirmId;
use crate::error::{AppError, AppResult, is_unique_violation};

pub const FIRM_COLUMNS: &str = "f.id, f.credit_code, f.name, f.city, f.district, f.industry_code, f.tier, \
    f.tier_recognized_year, f.founded_on, f.expected_market_value, f.neeq_listed_on, f.neeq_layer, \
    f.tax_credit_grade, f.lead_bank_id, f.contact_name, f.contact_email, f.contact_phone, \
    f.in_reserve_pool, f.created_at, f.updated_at";

pub fn from_row(r: &AnyRow) -> Result<Firm, sqlx::Error> {
    Ok(Firm {
        id: r.id("id")?,
        credit_code: r.text("credit_code")?,
        name: r.text("name")?,
        city: r.vocab("city")?,
        district: r.opt_text("district")?,
        industry_code: r.text("industry_code")?,
        tier: r.opt_vocab("tier")?,
        tier_recognized_year: r.opt_int("tier_recognized_year")?.map(|y| y as i32),
        founded_on: r.opt_day("founded_on")?,
        expected_market_value: r.opt_money("expected_market_value")?,
        neeq_listed_on: r.opt_day("neeq_listed_on")?,
        neeq_layer: r.opt_vocab("neeq_layer")?,
        tax_credit_grade: r.opt_vocab("tax_credit_grade")?,
        lead_bank_id: r.opt_id("lead_bank_id")?,
        contact_name: r.opt_text("contact_name")?,
        contact_email: r.opt_text("contact_email")?,
        contact_phone: r.opt_text("contact_phone")?,
        in_reserve_pool: r.flag("in_reserve_pool")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// The conflict answer for a credit code that is already registered.
pub fn duplicate_code(existing: FirmId) -> AppError {
    AppError::Conflict {
        code: "duplicate_credit_code",
        detail: format!("a firm with this credit code is already registered: {existing}"),
        extra: Some(serde_json::json!({ "existing_firm_id": existing })),
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Declares the firm's writable fields once: each field's column (named as the field) and how it is
/// bound. The list makes `FIELD_COLUMNS` and `bind_fields`, whose pattern names every field without
/// `..`, so a field added to `FirmFields` does not compile until it is added here, and insert, bulk
/// insert and update all take their columns and binds from it.
macro_rules! writable_fields {
    ($($field:ident => $bind:expr),+ $(,)?) => {
        const FIELD_COLUMNS: &[&str] = &[$(stringify!($field)),+];

        /// Binds the writable fields in `FIELD_COLUMNS` order.
        fn bind_fields<'q>(mut q: Query<'q>, fields: &'q FirmFields) -> AppResult<Query<'q>> {
            let FirmFields { $($field),+ } = fields;
            $(q = q.bind($bind);)+
            Ok(q)
        }
    };
}

writable_fields! {
    credit_code => credit_code.as_str(),
    name => name.as_str(),
    city => city.as_str(),
    district => district.as_deref(),
    industry_code => industry_code.as_str(),
    tier => tier.map(|t| t.as_str()),
    tier_recognized_year => tier_recognized_year.map(i64::from),
    founded_on => founded_on.map(day),
    expected_market_value => opt_fen(*expected_market_value)
        .map_err(|e| AppError::field("expected_market_value", "out_of_range", e.to_string()))?,
    neeq_listed_on => neeq_listed_on.map(day),
    neeq_layer => neeq_layer.map(|l| l.as_str()),
    tax_credit_grade => tax_credit_grade.map(|g| g.as_str()),
    contact_name => contact_name.as_deref(),
    contact_email => contact_email.as_deref(),
    contact_phone => contact_phone.as_deref(),
}

pub async fn insert(conn: &mut Conn, fields: &FirmFields, now: DateTime<Utc>) -> AppResult<Firm> {
    let id = FirmId::new();
    let n = FIELD_COLUMNS.len();
    // `id` is $1, the fields $2.., and the creation time stands for created_at and updated_at.
    let sql = format!(
        "INSERT INTO firms (id, {}, created_at, updated_at) VALUES ($1, {}, ${at}, ${at}) \
         ON CONFLICT (credit_code) DO NOTHING",
        FIELD_COLUMNS.join(", "),
        list_placeholders(n, 2),
        at = n + 2
    );
    let result = bind_fields(sqlx::query(&sql).bind(id.to_string()), fields)?.bind(ts(now)).execute(&mut *conn).await;
    // ON CONFLICT keeps the transaction usable (PostgreSQL aborts it on a raised violation), so
    // the existing firm can be named in the answer.
    if result?.rows_affected() == 0 {
        let existing = get_by_credit_code(conn, &fields.credit_code).await?;
        return Err(match existing {
            Some(f) => duplicate_code(f.id),
            None => AppError::conflict("duplicate_credit_code", "a firm with this credit code is already registered"),
        });
    }
    get(conn, id).await?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("inserted firm {id} not found")))
}

pub async fn update(conn: &mut Conn, id: FirmId, fields: &FirmFields, now: DateTime<Utc>) -> AppResult<Firm> {
    if let Some(other) = get_by_credit_code(conn, &fields.credit_code).await?
        && other.id != id
    {
        return Err(duplicate_code(other.id));
    }
    let n = FIELD_COLUMNS.len();
    let sets: Vec<String> = FIELD_COLUMNS.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 2)).collect();
    let sql = format!("UPDATE firms SET {}, updated_at = ${} WHERE id = $1", sets.join(", "), n + 2);
    let result = bind_fields(sqlx::query(&sql).bind(id.to_string()), fields)?.bind(ts(now)).execute(&mut *conn).await;
    match result {
        Ok(r) if r.rows_affected() == 0 => return Err(AppError::not_found("firm")),
        Ok(_) => {}
        // A concurrent writer took the code between the check above and this update.
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                "duplicate_credit_code",
                "a firm with this credit code is already registered",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    get(conn, id).await?.ok_or(AppError::not_found("firm"))
}

pub async fn get(conn: &mut Conn, id: FirmId) -> AppResult<Option<Firm>> {
    let row = sqlx::query(&format!("SELECT {FIRM_COLUMNS} FROM firms f WHERE f.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn get_by_credit_code(conn: &mut Conn, code: &str) -> AppResult<Option<Firm>> {
    let row = sqlx::query(&format!("SELECT {FIRM_COLUMNS} FROM firms f WHERE f.credit_code = $1"))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The firms registered under any of `codes`, read in batches as large as the dialect's parameter
/// limit allows (an import of thousands of firms costs a few statements).
pub async fn get_many_by_credit_code(conn: &mut Conn, dialect: Dialect, codes: &[&str]) -> AppResult<Vec<Firm>> {
    let mut out = Vec::new();
    for chunk in codes.chunks(dialect.batch_rows(1)) {
        let sql = format!(
            "SELECT {FIRM_COLUMNS} FROM firms f WHERE f.credit_code IN ({})",
            list_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for code in chunk {
            q = q.bind(*code);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.push(from_row(&row)?);
        }
    }
    Ok(out)
}

/// Inserts new firms with the ids given, in multi-row batches. Their event sequence starts at 1:
/// the caller records each firm's creation event with that number in the same transaction.
pub async fn insert_many(
    conn: &mut Conn,
    dialect: Dialect,
    firms: &[(FirmId, &FirmFields)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    // id, the fields, event_seq, created_at, updated_at.
    let cols = FIELD_COLUMNS.len() + 4;
    for chunk in firms.chunks(dialect.batch_rows(cols)) {
        let sql = format!(
            "INSERT INTO firms (id, {}, event_seq, created_at, updated_at) VALUES {}",
            FIELD_COLUMNS.join(", "),
            values_placeholders(chunk.len(), cols, 1)
        );
        let mut q = sqlx::query(&sql);
        for (id, f) in chunk {
            q = bind_fields(q.bind(id.to_string()), f)?.bind(1i64).bind(ts(now)).bind(ts(now));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct FirmFilter {
    pub city: Option<City>,
    pub tier: Option<Tier>,
    pub industry_prefix: Option<String>,
    pub in_reserve_pool: Option<bool>,
    pub target_venue: Option<Venue>,
    pub name_contains: Option<String>,
}

/// Firms in id order (UUIDv7: creation order) after `after`; rows inserted while a client pages
/// get larger ids, so paging neither skips nor repeats rows.
pub async fn list(conn: &mut Conn, filter: &FirmFilter, after: Option<Uuid>, limit: u32) -> AppResult<Vec<Firm>> {
    let mut f = Filter::default();
    if let Some(c) = filter.city {
        f.and("f.city = {}", Bind::Text(c.as_str().into()));
    }
    if let Some(t) = filter.tier {
        f.and("f.tier = {}", Bind::Text(t.as_str().into()));
    }
    if let Some(p) = &filter.industry_prefix {
        f.and("f.industry_code LIKE {} ESCAPE '\\'", Bind::Text(format!("{}%", like_escape(p))));
    }
    if let Some(b) = filter.in_reserve_pool {
        f.and("f.in_reserve_pool = {}", Bind::Bool(b));
    }
    if let Some(v) = filter.target_venue {
        f.and(
            "EXISTS (SELECT 1 FROM reserve_pool rp WHERE rp.firm_id = f.id AND rp.target_venue = {})",
            Bind::Text(v.as_str().into()),
        );
    }
    if let Some(n) = &filter.name_contains {
        f.and("f.name LIKE {} ESCAPE '\\'", Bind::Text(format!("%{}%", like_escape(n))));
    }
    if let Some(a) = after {
        f.and("f.id > {}", Bind::Text(a.to_string()));
    }
    let sql = format!("SELECT {FIRM_COLUMNS} FROM firms f{} ORDER BY f.id LIMIT {limit}", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Takes the firm's next event sequence number; the row update serialises concurrent writers.
pub async fn next_event_seq(conn: &mut Conn, firm_id: FirmId) -> AppResult<i64> {
    let row = sqlx::query("UPDATE firms SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq")
        .bind(firm_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(r.int("event_seq")?),
        None => Err(AppError::not_found("firm")),
    }
}

/// Sets the firm's NEEQ quotation date and layer (kept in step with its recorded milestones).
pub async fn set_neeq(
    conn: &mut Conn,
    firm_id: FirmId,
    listed_on: Option<NaiveDate>,
    layer: Option<NeeqLayer>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query("UPDATE firms SET neeq_listed_on = $2, neeq_layer = $3, updated_at = $4 WHERE id = $1")
        .bind(firm_id.to_string())
        .bind(listed_on.map(day))
        .bind(layer.map(|l| l.as_str()))
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_in_pool(conn: &mut Conn, firm_id: FirmId, in_pool: bool, now: DateTime<Utc>) -> AppResult<()> {
    sqlx::query("UPDATE firms SET in_reserve_pool = $2, updated_at = $3 WHERE id = $1")
        .bind(firm_id.to_string())
        .bind(in_pool)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn count(conn: &mut Conn) -> AppResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM firms").fetch_one(&mut *conn).await?;
    Ok(row.int("n")?)
}
