//! Reading materialised matches for the API: the bank pull (full list or incremental since a
//! sequence number), one pair, and a firm's active matches. Consent is applied here, at read time,
//! through [`covered_sql`]: a bank's query carries the predicate, so a firm without a consent in
//! force for that bank never reaches the bank with its data.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use super::consents::{covered_sql, ever_covered_sql};
use crate::db::row::{Bind, Filter, RowExt};
use crate::db::types::ts;
use crate::domain::firm::{City, FinancialYear, Firm, Tier, Venue};
use crate::domain::ids::{BankId, FirmId};
use crate::error::AppResult;
use crate::store::{financials, firms};

/// A stored match with what the API needs to show it.
#[derive(Debug, Clone)]
pub struct MatchRow {
    pub firm: Firm,
    pub tutoring_whitelist: bool,
    pub target_venue: Option<Venue>,
    pub product_id: Uuid,
    pub bank_id: BankId,
    pub active: bool,
    pub score: u8,
    pub version: i64,
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether a consent in force lets the reading bank see the firm (always true for the office
    /// and for the firm itself).
    pub covered: bool,
    /// The firm's latest fiscal year, read with the row (shown only when `covered`).
    pub latest_financials: Option<FinancialYear>,
}

/// Which rows a pull returns.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Active matches of covered firms.
    Full,
    /// Every row changed after this sequence number, withdrawals and consent changes included.
    SinceSeq(i64),
    /// Every row whose `updated_at` is at or after this instant (approximate; see the API docs).
    SinceTime(DateTime<Utc>),
}

#[derive(Debug, Clone, Default)]
pub struct PullFilter {
    pub product_id: Option<Uuid>,
    pub min_score: Option<u8>,
    pub city: Option<City>,
    pub tier: Option<Tier>,
    pub venue: Option<Venue>,
    /// Only firms whose lead bank (主办行) is the reading bank (`true`), or only others (`false`).
    pub lead_bank: Option<bool>,
    /// Only firms on (or off) the financial-tutoring whitelist (金融辅导白名单).
    pub tutoring: Option<bool>,
}

/// Who reads: a bank (matches of its products, consent applied) or the office (optionally one
/// bank's matches, no consent filter).
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    Bank(BankId),
    Admin(Option<BankId>),
}

impl Reader {
    fn bank(self) -> Option<BankId> {
        match self {
            Reader::Bank(b) => Some(b),
            Reader::Admin(b) => b,
        }
    }
}

/// The rows with their firm, pool entry and latest fiscal year in one statement, so that a page
/// is one round trip (the year's columns carry the prefix `fy_`).
fn select() -> String {
    let year: Vec<String> =
        financials::COLUMNS.split(',').map(str::trim).map(|c| format!("fy.{c} AS fy_{c}")).collect();
    format!(
        "SELECT {}, f.tutoring_whitelist, rp.target_venue, m.product_id, m.bank_id AS match_bank_id, m.status, \
         m.score, m.version, m.seq, m.created_at AS match_created_at, m.updated_at AS match_updated_at, {} \
         FROM matches m JOIN firms f ON f.id = m.firm_id LEFT JOIN reserve_pool rp ON rp.firm_id = m.firm_id \
         LEFT JOIN financials fy ON fy.firm_id = m.firm_id \
           AND fy.fiscal_year = (SELECT MAX(y.fiscal_year) FROM financials y WHERE y.firm_id = m.firm_id)",
        firms::FIRM_COLUMNS,
        year.join(", ")
    )
}

/// Sets `covered` on rows a bank reads (one indexed query over the page's firms; a correlated
/// `EXISTS` in the select list is planned by PostgreSQL as a scan of every consent).
async fn apply_coverage(conn: &mut Conn, reader: Reader, rows: &mut [MatchRow], now: DateTime<Utc>) -> AppResult<()> {
    let Reader::Bank(bank) = reader else { return Ok(()) };
    let firms: Vec<FirmId> = rows.iter().map(|r| r.firm.id).collect();
    let covered = super::consents::covered_firms(conn, bank, &firms, now).await?;
    for r in rows {
        r.covered = covered.contains(&r.firm.id);
    }
    Ok(())
}

fn from_row(r: &AnyRow) -> Result<MatchRow, sqlx::Error> {
    Ok(MatchRow {
        firm: firms::from_row(r)?,
        tutoring_whitelist: r.flag("tutoring_whitelist")?,
        target_venue: r.opt_vocab("target_venue")?,
        product_id: r.uuid("product_id")?,
        bank_id: r.id("match_bank_id")?,
        active: r.text("status")? == "active",
        score: u8::try_from(r.int("score")?).unwrap_or(0),
        version: r.int("version")?,
        seq: r.int("seq")?,
        created_at: r.ts("match_created_at")?,
        updated_at: r.ts("match_updated_at")?,
        covered: true,
        latest_financials: match r.opt_int("fy_fiscal_year")? {
            Some(_) => Some(financials::from_row_prefixed(r, "fy_")?),
            None => None,
        },
    })
}

/// One page of a pull, in `(seq, firm_id, product_id)` order, only rows with `seq <= high_water`.
/// Without `high_water` (the first page), the statement reads the committed mark itself, in the
/// same snapshot as the rows, and returns it: `(rows, high_water)`.
#[allow(clippy::too_many_arguments)]
pub async fn pull(
    conn: &mut Conn,
    reader: Reader,
    mode: &Mode,
    filter: &PullFilter,
    high_water: Option<i64>,
    after: Option<(i64, Uuid, Uuid)>,
    limit: u32,
    now: DateTime<Utc>,
) -> AppResult<(Vec<MatchRow>, i64)> {
    const MARK: &str = "(SELECT c.seq FROM match_clock c WHERE c.id = 1)";
    let mut f = Filter::default();
    let head = match high_water {
        Some(_) => select(),
        None => select().replacen(" FROM matches m", &format!(", {MARK} AS high_water FROM matches m"), 1),
    };
    if let Some(b) = reader.bank() {
        f.and("m.bank_id = {}", Bind::Text(b.to_string()));
    }
    match high_water {
        Some(hw) => f.and("m.seq <= {}", Bind::Int(hw)),
        None => f.and_raw(&format!("m.seq <= {MARK}")),
    }
    if let Some(p) = filter.product_id {
        f.and("m.product_id = {}", Bind::Text(p.to_string()));
    }
    // Filters on what the bank may see of a firm: they apply to covered rows only, so that a
    // withdrawal notice (a firm the bank once saw, no longer covered) is returned whatever the
    // filter and the filters cannot be used to learn the firm's current score, city or tier.
    let mut about_firm: Vec<String> = Vec::new();
    if let Some(s) = filter.min_score {
        about_firm.push(format!("m.score >= {}", f.bind(Bind::Int(i64::from(s)))));
    }
    if let Some(c) = filter.city {
        about_firm.push(format!("f.city = {}", f.bind(Bind::Text(c.as_str().into()))));
    }
    if let Some(t) = filter.tier {
        about_firm.push(format!("f.tier = {}", f.bind(Bind::Text(t.as_str().into()))));
    }
    if let Some(v) = filter.venue {
        about_firm.push(format!("rp.target_venue = {}", f.bind(Bind::Text(v.as_str().into()))));
    }
    match (filter.lead_bank, reader.bank()) {
        (Some(true), Some(b)) => about_firm.push(format!("f.lead_bank_id = {}", f.bind(Bind::Text(b.to_string())))),
        (Some(false), Some(b)) => about_firm
            .push(format!("(f.lead_bank_id IS NULL OR f.lead_bank_id <> {})", f.bind(Bind::Text(b.to_string())))),
        (Some(true), None) => about_firm.push("f.lead_bank_id IS NOT NULL".into()),
        (Some(false), None) => about_firm.push("f.lead_bank_id IS NULL".into()),
        (None, _) => {}
    }
    if let Some(t) = filter.tutoring {
        about_firm.push(format!("f.tutoring_whitelist = {}", f.bind(Bind::Bool(t))));
    }
    let about_firm = if about_firm.is_empty() { None } else { Some(about_firm.join(" AND ")) };
    match (mode, reader) {
        (Mode::Full, Reader::Bank(b)) => {
            f.and_raw("m.status = 'active'");
            let bp = f.bind(Bind::Text(b.to_string()));
            let np = f.bind(Bind::Text(ts(now)));
            f.and_raw(&covered_sql("m.firm_id", &bp, &np));
            if let Some(sql) = &about_firm {
                f.and_raw(sql);
            }
        }
        (Mode::Full, Reader::Admin(_)) => {
            f.and_raw("m.status = 'active'");
            if let Some(sql) = &about_firm {
                f.and_raw(sql);
            }
        }
        (Mode::SinceSeq(_) | Mode::SinceTime(_), Reader::Bank(b)) => {
            match mode {
                Mode::SinceSeq(s) => f.and("m.seq > {}", Bind::Int(*s)),
                Mode::SinceTime(t) => f.and("m.updated_at >= {}", Bind::Text(ts(*t))),
                Mode::Full => {}
            }
            let bp = f.bind(Bind::Text(b.to_string()));
            let np = f.bind(Bind::Text(ts(now)));
            let covered = covered_sql("m.firm_id", &bp, &np);
            let ever = ever_covered_sql("m.firm_id", &bp, &np);
            let shown = about_firm.as_deref().unwrap_or("1 = 1");
            f.and_raw(&format!("(({covered} AND {shown}) OR (NOT {covered} AND {ever}))"));
        }
        (Mode::SinceSeq(s), Reader::Admin(_)) => {
            f.and("m.seq > {}", Bind::Int(*s));
            if let Some(sql) = &about_firm {
                f.and_raw(sql);
            }
        }
        (Mode::SinceTime(t), Reader::Admin(_)) => {
            f.and("m.updated_at >= {}", Bind::Text(ts(*t)));
            if let Some(sql) = &about_firm {
                f.and_raw(sql);
            }
        }
    }
    if let Some((seq, firm, product)) = after {
        let s = f.bind(Bind::Int(seq));
        let fi = f.bind(Bind::Text(firm.to_string()));
        let pr = f.bind(Bind::Text(product.to_string()));
        f.and_raw(&format!(
            "m.seq >= {s} AND (m.seq > {s} OR m.firm_id > {fi} OR (m.firm_id = {fi} AND m.product_id > {pr}))"
        ));
    }
    let sql = format!("{head}{} ORDER BY m.seq, m.firm_id, m.product_id LIMIT {limit}", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let mark = match (high_water, rows.first()) {
        (Some(hw), _) => hw,
        (None, Some(r)) => r.int("high_water")?,
        (None, None) => crate::store::matches::high_water(conn).await?,
    };
    let mut rows: Vec<MatchRow> = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    if !matches!(mode, Mode::Full) {
        apply_coverage(conn, reader, &mut rows, now).await?;
    }
    Ok((rows, mark))
}

/// One stored pair, with coverage for `reader`.
pub async fn one(
    conn: &mut Conn,
    reader: Reader,
    firm_id: FirmId,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<MatchRow>> {
    let mut f = Filter::default();
    let head = select();
    f.and("m.firm_id = {}", Bind::Text(firm_id.to_string()));
    f.and("m.product_id = {}", Bind::Text(product_id.to_string()));
    if let Some(b) = reader.bank() {
        f.and("m.bank_id = {}", Bind::Text(b.to_string()));
    }
    let sql = format!("{head}{}", f.where_sql());
    let row = f.apply(sqlx::query(&sql)).fetch_optional(&mut *conn).await?;
    let mut rows: Vec<MatchRow> = row.as_ref().map(from_row).transpose()?.into_iter().collect();
    apply_coverage(conn, reader, &mut rows, now).await?;
    Ok(rows.pop())
}

/// A firm's active matches (optionally only one bank's), best score first.
pub async fn active_for_firm(conn: &mut Conn, firm_id: FirmId, bank: Option<BankId>) -> AppResult<Vec<MatchRow>> {
    let mut f = Filter::default();
    let head = select();
    f.and("m.firm_id = {}", Bind::Text(firm_id.to_string()));
    f.and_raw("m.status = 'active'");
    if let Some(b) = bank {
        f.and("m.bank_id = {}", Bind::Text(b.to_string()));
    }
    let sql = format!("{head}{} ORDER BY m.score DESC, m.product_id", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
