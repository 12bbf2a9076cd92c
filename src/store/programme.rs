//! The grouped counts behind the programme statistics (`service::stats`): each query counts in
//! SQL and returns a handful of numbers, so no population is loaded into memory.

use crate::db::row::RowExt;
use crate::domain::firm::{City, Tier, Venue};
use crate::domain::listing_stage::ListingStage;
use crate::error::AppResult;
use crate::store::Conn;

/// Firms of one city and tier, and how many of them are in the reserve pool.
pub struct CityTierCount {
    pub city: Option<City>,
    pub tier: Option<Tier>,
    pub firms: i64,
    pub pool_firms: i64,
}

pub async fn firms_by_city_and_tier(conn: &mut Conn) -> AppResult<Vec<CityTierCount>> {
    let rows = sqlx::query(
        "SELECT f.city, f.tier, COUNT(*) AS firms, SUM(CASE WHEN f.in_reserve_pool = $1 THEN 1 ELSE 0 END) AS pool \
         FROM firms f GROUP BY f.city, f.tier",
    )
    .bind(true)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(CityTierCount {
            city: r.opt_vocab("city")?,
            tier: r.opt_vocab("tier")?,
            firms: r.int("firms")?,
            pool_firms: r.opt_int("pool")?.unwrap_or(0),
        });
    }
    Ok(out)
}

/// Per tier, the firms with R&D figures in a fiscal year, their mean R&D expense ÷ revenue and
/// their mean count of invention patents.
pub struct TierRd {
    pub tier: Option<Tier>,
    pub firms: i64,
    pub mean_rd_ratio: Option<f64>,
    pub mean_invention_patents: Option<f64>,
}

pub async fn rd_by_tier(conn: &mut Conn, fiscal_year: i32) -> AppResult<Vec<TierRd>> {
    let rows = sqlx::query(
        "SELECT f.tier, COUNT(*) AS n, AVG(CAST(fi.rd_expense AS DOUBLE PRECISION) / fi.revenue) AS rd, \
         AVG(CAST(fi.invention_patents AS DOUBLE PRECISION)) AS patents \
         FROM financials fi JOIN firms f ON f.id = fi.firm_id \
         WHERE fi.fiscal_year = $1 AND fi.revenue > 0 AND fi.rd_expense IS NOT NULL GROUP BY f.tier",
    )
    .bind(i64::from(fiscal_year))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(TierRd {
            tier: r.opt_vocab("tier")?,
            firms: r.int("n")?,
            mean_rd_ratio: sqlx::Row::try_get(r, "rd")?,
            mean_invention_patents: sqlx::Row::try_get(r, "patents")?,
        });
    }
    Ok(out)
}

/// Reserve-pool firms by target venue: all of them, and the key firms.
pub async fn pool_by_venue(conn: &mut Conn) -> AppResult<Vec<(Venue, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT target_venue, COUNT(*) AS n, SUM(CASE WHEN key_firm = $1 THEN 1 ELSE 0 END) AS key_firms \
         FROM reserve_pool GROUP BY target_venue",
    )
    .bind(true)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.vocab("target_venue")?, r.int("n")?, r.opt_int("key_firms")?.unwrap_or(0)))).collect()
}

/// Firms by venue and current listing stage, in venue and stage order.
pub async fn firms_by_stage(conn: &mut Conn) -> AppResult<Vec<(Venue, ListingStage, i64)>> {
    let rows = sqlx::query(
        // A firm listed on an exchange is no longer quoted on the NEEQ, whatever its last NEEQ stage.
        "SELECT ls.venue, ls.current_stage, COUNT(*) AS n FROM listing_status ls WHERE ls.current_stage IS NOT NULL \
         AND NOT (ls.venue = 'neeq' AND EXISTS (SELECT 1 FROM listing_status x WHERE x.firm_id = ls.firm_id \
         AND x.venue IN ('bse', 'star', 'chinext') AND x.current_stage = 'listed')) \
         GROUP BY ls.venue, ls.current_stage ORDER BY ls.venue, ls.current_stage",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.vocab("venue")?, r.vocab("current_stage")?, r.int("n")?))).collect()
}

/// Listings since 2022-01-01 by venue and city: all of them, and those in `year`.
pub async fn listings_since_2022(conn: &mut Conn, year: i32) -> AppResult<Vec<(Venue, Option<City>, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT ls.venue, f.city, COUNT(*) AS n, SUM(CASE WHEN SUBSTR(ls.listed_on, 1, 4) = $1 THEN 1 ELSE 0 END) AS in_year \
         FROM listing_status ls JOIN firms f ON f.id = ls.firm_id \
         WHERE ls.listed_on >= '2022-01-01' GROUP BY ls.venue, f.city",
    )
    .bind(year.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.vocab("venue")?, r.opt_vocab("city")?, r.int("n")?, r.opt_int("in_year")?.unwrap_or(0))))
        .collect()
}

/// Firms that completed their shareholding reform in `year`.
pub async fn shareholding_reforms(conn: &mut Conn, year: i32) -> AppResult<i64> {
    let row = sqlx::query("SELECT COUNT(DISTINCT firm_id) AS n FROM listing_status WHERE SUBSTR(reform_on, 1, 4) = $1")
        .bind(year.to_string())
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.int("n")?)
}

/// Roadshows held (published, closed or completed) that start in `year`.
pub async fn roadshows_in_year(conn: &mut Conn, year: i32) -> AppResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM roadshows WHERE status IN ('published', 'closed', 'completed') AND SUBSTR(starts_at, 1, 4) = $1",
    )
    .bind(year.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.int("n")?)
}

/// Tiers that make a firm 专精特新 in the plan's sense (二(一)): provincial title or 小巨人.
const SRDI: &str = "('provincial_srdi', 'little_giant')";
const LITTLE_GIANT: &str = "('little_giant')";

/// Which current tiers a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tiers {
    /// Provincial 专精特新 or 小巨人.
    Srdi,
    LittleGiant,
}

impl Tiers {
    fn sql(self) -> &'static str {
        match self {
            Tiers::Srdi => SRDI,
            Tiers::LittleGiant => LITTLE_GIANT,
        }
    }
}

/// The 专精特新 subsets of the pool, exchange listings since 2022, the regional board and the
/// shareholding reforms of `year`.
pub struct SrdiCounts {
    pub reserve_pool: i64,
    pub new_listings_since_2022: i64,
    pub on_regional_board: i64,
    pub shareholding_reforms_in_year: i64,
}

pub async fn srdi_counts(conn: &mut Conn, year: i32) -> AppResult<SrdiCounts> {
    let reserve_pool =
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM firms WHERE in_reserve_pool = $1 AND tier IN {SRDI}"))
            .bind(true)
            .fetch_one(&mut *conn)
            .await?
            .int("n")?;
    let new_listings_since_2022 = sqlx::query(&format!(
        "SELECT COUNT(DISTINCT ls.firm_id) AS n FROM listing_status ls JOIN firms f ON f.id = ls.firm_id \
         WHERE ls.venue IN ('bse', 'star', 'chinext') AND ls.listed_on >= '2022-01-01' AND f.tier IN {SRDI}"
    ))
    .fetch_one(&mut *conn)
    .await?
    .int("n")?;
    let on_regional_board = sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM listing_status ls JOIN firms f ON f.id = ls.firm_id \
         WHERE ls.venue = 'regional_srdi_board' AND ls.current_stage = 'regional_listed' AND f.tier IN {SRDI}"
    ))
    .fetch_one(&mut *conn)
    .await?
    .int("n")?;
    let shareholding_reforms_in_year = sqlx::query(&format!(
        "SELECT COUNT(DISTINCT ls.firm_id) AS n FROM listing_status ls JOIN firms f ON f.id = ls.firm_id \
         WHERE SUBSTR(ls.reform_on, 1, 4) = $1 AND f.tier IN {SRDI}"
    ))
    .bind(year.to_string())
    .fetch_one(&mut *conn)
    .await?
    .int("n")?;
    Ok(SrdiCounts { reserve_pool, new_listings_since_2022, on_regional_board, shareholding_reforms_in_year })
}

/// A share of firms the plan sets a target for: which firms are counted (those with the figure
/// known in the fiscal year), and which of them reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareOf {
    /// R&D expense at least `threshold` percent of revenue.
    RdRatio,
    /// Main-business revenue at least `threshold` percent of revenue.
    MainBusiness,
    /// Any R&D institution.
    RdInstitution,
    /// A national or provincial R&D platform.
    ProvincialRdPlatform,
    /// Digitalisation level at least `threshold`.
    Digitalisation,
    /// Moved to the cloud.
    Cloud,
    /// A supplier in a key industrial chain.
    KeyChain,
}

/// Tier inputs of the fiscal year ($1), joined to their firm.
const TIER_INPUTS: &str = "FROM tier_inputs ti JOIN firms f ON f.id = ti.firm_id WHERE ti.fiscal_year = $1";
const FINANCIALS: &str = "FROM financials fi JOIN firms f ON f.id = fi.firm_id WHERE fi.fiscal_year = $1";

/// Firms counted, firms that reach the figure, and all firms of those tiers.
pub struct ShareCount {
    pub counted: i64,
    pub hit: i64,
    pub population: i64,
}

pub async fn share(
    conn: &mut Conn,
    of: ShareOf,
    tiers: Tiers,
    fiscal_year: i32,
    threshold: Option<f64>,
) -> AppResult<ShareCount> {
    let (from_where, hit, binds_threshold) = match of {
        ShareOf::RdRatio => (
            format!("{FINANCIALS} AND fi.revenue > 0 AND fi.rd_expense IS NOT NULL"),
            "CAST(fi.rd_expense AS DOUBLE PRECISION) * 100 >= CAST(fi.revenue AS DOUBLE PRECISION) * $2",
            true,
        ),
        ShareOf::MainBusiness => (
            format!("{FINANCIALS} AND fi.revenue > 0 AND fi.main_business_revenue IS NOT NULL"),
            "CAST(fi.main_business_revenue AS DOUBLE PRECISION) * 100 >= CAST(fi.revenue AS DOUBLE PRECISION) * $2",
            true,
        ),
        ShareOf::RdInstitution => (
            format!("{TIER_INPUTS} AND ti.rd_institution_level IS NOT NULL"),
            "ti.rd_institution_level <> 'no_institution'",
            false,
        ),
        ShareOf::ProvincialRdPlatform => (
            format!("{TIER_INPUTS} AND ti.rd_institution_level IS NOT NULL"),
            "ti.rd_institution_level IN ('national', 'provincial')",
            false,
        ),
        ShareOf::Digitalisation => {
            (format!("{TIER_INPUTS} AND ti.digitalisation_level IS NOT NULL"), "ti.digitalisation_level >= $2", true)
        }
        ShareOf::Cloud => {
            (format!("{TIER_INPUTS} AND ti.cloud_migrated IS NOT NULL"), "ti.cloud_migrated = TRUE", false)
        }
        ShareOf::KeyChain => {
            (format!("{TIER_INPUTS} AND ti.key_chain_supplier IS NOT NULL"), "ti.key_chain_supplier = TRUE", false)
        }
    };
    let tiers = tiers.sql();
    let sql = format!(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN {hit} THEN 1 ELSE 0 END) AS hit {from_where} AND f.tier IN {tiers}"
    );
    let mut q = sqlx::query(&sql).bind(i64::from(fiscal_year));
    if binds_threshold && let Some(t) = threshold {
        q = q.bind(t);
    }
    let row = q.fetch_one(&mut *conn).await?;
    let (counted, hit) = (row.int("n")?, row.opt_int("hit")?.unwrap_or(0));
    let population = sqlx::query(&format!("SELECT COUNT(*) AS n FROM firms f WHERE f.tier IN {tiers}"))
        .fetch_one(&mut *conn)
        .await?
        .int("n")?;
    Ok(ShareCount { counted, hit, population })
}

/// Firms of `tiers` first recognised as `tier` in `[first_year, year]`: the population, that
/// count, and the firms whose recognition year is unknown. The year is the office's record, else
/// the firm's own recognition year when its current tier is this one.
pub async fn recognised_since(
    conn: &mut Conn,
    tier: Tier,
    tiers: Tiers,
    first_year: i32,
    year: i32,
) -> AppResult<(i64, i64, i64)> {
    let tiers = tiers.sql();
    let sql = format!(
        "SELECT COUNT(*) AS pop, \
         SUM(CASE WHEN y >= $2 AND y <= $3 THEN 1 ELSE 0 END) AS n, \
         SUM(CASE WHEN y IS NULL THEN 1 ELSE 0 END) AS unknown FROM ( \
           SELECT COALESCE(r.recognized_year, CASE WHEN f.tier = $1 THEN f.tier_recognized_year END) AS y \
           FROM firms f LEFT JOIN tier_recognitions r ON r.firm_id = f.id AND r.tier = $1 \
           WHERE f.tier IN {tiers}) t"
    );
    let row = sqlx::query(&sql)
        .bind(tier.as_str())
        .bind(i64::from(first_year))
        .bind(i64::from(year))
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.int("pop")?, row.opt_int("n")?.unwrap_or(0), row.opt_int("unknown")?.unwrap_or(0)))
}

/// 小巨人 with an invention-patent count in the fiscal year, and their patents in all.
pub async fn little_giant_invention_patents(conn: &mut Conn, fiscal_year: i32) -> AppResult<(i64, i64)> {
    let row = sqlx::query(&format!(
        "SELECT COUNT(fi.invention_patents) AS n, CAST(COALESCE(SUM(fi.invention_patents), 0) AS BIGINT) AS total \
         {FINANCIALS} AND f.tier IN {LITTLE_GIANT}"
    ))
    .bind(i64::from(fiscal_year))
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.int("n")?, row.opt_int("total")?.unwrap_or(0)))
}

/// 小巨人 with R&D figures in the fiscal year, and their mean R&D expense ÷ revenue.
pub async fn little_giant_rd_ratio(conn: &mut Conn, fiscal_year: i32) -> AppResult<(i64, Option<f64>)> {
    let row = sqlx::query(&format!(
        "SELECT COUNT(*) AS n, AVG(CAST(fi.rd_expense AS DOUBLE PRECISION) / fi.revenue) AS rd \
         {FINANCIALS} AND fi.revenue > 0 AND fi.rd_expense IS NOT NULL AND f.tier IN {LITTLE_GIANT}"
    ))
    .bind(i64::from(fiscal_year))
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.int("n")?, sqlx::Row::try_get(&row, "rd")?))
}

/// 专精特新 firms on the cloud in the fiscal year that were not in the year before.
pub async fn srdi_newly_cloud_migrated(conn: &mut Conn, fiscal_year: i32) -> AppResult<i64> {
    let row = sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM tier_inputs cur \
         JOIN tier_inputs prev ON prev.firm_id = cur.firm_id AND prev.fiscal_year = $2 \
         JOIN firms f ON f.id = cur.firm_id \
         WHERE cur.fiscal_year = $1 AND cur.cloud_migrated = TRUE AND prev.cloud_migrated = FALSE AND f.tier IN {SRDI}"
    ))
    .bind(i64::from(fiscal_year))
    .bind(i64::from(fiscal_year - 1))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.int("n")?)
}

/// Loans disbursed to 专精特新 firms in `year` and in the year before, in fen.
pub async fn srdi_loans_disbursed_fen(conn: &mut Conn, year: i32) -> AppResult<(i64, i64)> {
    let row = sqlx::query(&format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN SUBSTR(a.disbursed_on, 1, 4) = $1 THEN a.disbursed_amount ELSE 0 END), 0) AS BIGINT) AS cur, \
         CAST(COALESCE(SUM(CASE WHEN SUBSTR(a.disbursed_on, 1, 4) = $2 THEN a.disbursed_amount ELSE 0 END), 0) AS BIGINT) AS prev \
         FROM applications a JOIN firms f ON f.id = a.firm_id \
         WHERE a.disbursed_amount IS NOT NULL AND f.tier IN {SRDI}"
    ))
    .bind(year.to_string())
    .bind((year - 1).to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.opt_int("cur")?.unwrap_or(0), row.opt_int("prev")?.unwrap_or(0)))
}

/// Equity rounds by industrial capital paid in during `year`: how many, and their amount in fen.
pub async fn industrial_capital_rounds(conn: &mut Conn, year: i32) -> AppResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM equity_rounds \
         WHERE investor_kind = 'industrial_capital' AND SUBSTR(paid_in_on, 1, 4) = $1",
    )
    .bind(year.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.int("n")?, row.opt_int("total")?.unwrap_or(0)))
}
