//! Programme statistics against the provincial plan's targets. The targets are data
//! (`rules/programme/*.json`, `domain::programme`): each names the figure the service computes for
//! it, or says why it cannot. Counts are grouped in SQL; nothing here loads the population into
//! memory. docs/statistics.md says how each figure is counted.

use crate::csv_out::CsvWriter;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::row::RowExt;
use crate::domain::firm::{City, Tier, Venue};
use crate::domain::listing_stage::ListingStage;
use crate::domain::programme::{MetricValue, Plan, ProgrammeMetric, Target, TargetResult, assess};
use crate::error::AppResult;
use crate::store::Conn;

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Actuals {
    /// Every firm in the reserve pool (the plan's pool target counts 专精特新 firms: see `targets`).
    pub reserve_pool_size: i64,
    /// 专精特新 firms (provincial or 小巨人, by current tier) in the reserve pool.
    pub srdi_reserve_pool_size: i64,
    pub key_reserve_firms: i64,
    /// Exchange listings (BSE, STAR, ChiNext) reached since 2022-01-01.
    pub new_listings_since_2022: i64,
    /// Exchange listings reached in `year`.
    pub new_listings_in_year: i64,
    /// Of those since 2022, firms that are 专精特新 (by current tier).
    pub srdi_new_listings_since_2022: i64,
    /// Firms on the regional 专精特新专板.
    pub srdi_board_firms: i64,
    /// Of those, firms that are 专精特新.
    pub srdi_board_firms_srdi: i64,
    pub shareholding_reforms_in_year: i64,
    pub srdi_shareholding_reforms_in_year: i64,
    pub firms: i64,
    /// Firms whose current tier is exactly this one.
    pub innovative_sme: i64,
    pub provincial_srdi: i64,
    pub little_giant: i64,
    /// Provincial 专精特新 plus 小巨人: a 小巨人 holds the provincial title too.
    pub provincial_srdi_or_above: i64,
    /// Mean of each provincial 专精特新 firm's R&D expense ÷ revenue in `fiscal_year`, in percent;
    /// shown for reference (the plan's 普遍 ≥ 3% target is the share of firms: see `targets`).
    #[schema(value_type = Option<String>)]
    pub provincial_srdi_avg_rd_ratio_pct: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub little_giant_avg_rd_ratio_pct: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub little_giant_avg_invention_patents: Option<Decimal>,
    /// Roadshows held (published, closed or completed) that start in `year`.
    pub roadshows_in_year: Option<i64>,
    /// Closed fund investments dated in `year` (intentions are not counted).
    pub fund_projects_in_year: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub fund_amount_in_year: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageCount {
    pub stage: ListingStage,
    pub firms: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VenueBreakdown {
    pub venue: Venue,
    /// Reserve-pool firms targeting this venue.
    pub pool_firms: i64,
    pub key_firms: i64,
    /// Firms by current stage on this venue.
    pub stages: Vec<StageCount>,
    /// Listed (or quoted, for NEEQ and the regional board) since 2022-01-01.
    pub listed_since_2022: i64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CityBreakdown {
    pub city: Option<City>,
    pub firms: i64,
    pub pool_firms: i64,
    pub innovative_sme: i64,
    pub provincial_srdi: i64,
    pub little_giant: i64,
    pub exchange_listings_since_2022: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TierBreakdown {
    pub tier: Option<Tier>,
    pub firms: i64,
    pub pool_firms: i64,
    /// Firms with revenue and R&D figures for `fiscal_year`.
    pub firms_with_rd_data: i64,
    #[schema(value_type = Option<String>)]
    pub avg_rd_ratio_pct: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub avg_invention_patents: Option<Decimal>,
}

/// The plan the targets come from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanSummary {
    pub plan: String,
    pub issued_by: String,
    pub issued_on: chrono::NaiveDate,
    pub first_year: i32,
    pub horizon_year: i32,
    /// Counting decisions that apply to every target.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgrammeStats {
    pub year: i32,
    /// The fiscal year whose financials and tier inputs the figures use (`year` − 1).
    pub fiscal_year: i32,
    pub plan: PlanSummary,
    /// Every quantified target of the plan beside its actual, or `not_tracked` with the reason.
    pub targets: Vec<TargetResult>,
    pub actual: Actuals,
    pub by_venue: Vec<VenueBreakdown>,
    pub by_city: Vec<CityBreakdown>,
    pub by_tier: Vec<TierBreakdown>,
}

fn pct(v: Option<f64>) -> Option<Decimal> {
    v.and_then(|x| Decimal::from_f64(x * 100.0)).map(|d| d.round_dp(2))
}

fn avg(v: Option<f64>) -> Option<Decimal> {
    v.and_then(Decimal::from_f64).map(|d| d.round_dp(2))
}

const EXCHANGES: [Venue; 3] = [Venue::Bse, Venue::Star, Venue::Chinext];

/// Programme statistics for the office.
pub async fn programme_as(
    conn: &mut Conn,
    caller: &crate::domain::access::Principal,
    year: i32,
) -> AppResult<ProgrammeStats> {
    caller.require_admin()?;
    if !(2022..=2100).contains(&year) {
        return Err(crate::error::AppError::field("year", "out_of_range", "must be between 2022 and 2100"));
    }
    programme(conn, year).await
}

pub async fn programme(conn: &mut Conn, year: i32) -> AppResult<ProgrammeStats> {
    let fiscal_year = year - 1;
    let mut actual = Actuals::default();
    let mut cities: BTreeMap<Option<City>, CityBreakdown> = BTreeMap::new();
    let mut tiers: BTreeMap<Option<Tier>, TierBreakdown> = BTreeMap::new();

    let rows = sqlx::query(
        "SELECT f.city, f.tier, COUNT(*) AS firms, SUM(CASE WHEN f.in_reserve_pool = $1 THEN 1 ELSE 0 END) AS pool \
         FROM firms f GROUP BY f.city, f.tier",
    )
    .bind(true)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let city: Option<City> = r.opt_vocab("city")?;
        let tier: Option<Tier> = r.opt_vocab("tier")?;
        let (firms, pool) = (r.int("firms")?, r.opt_int("pool")?.unwrap_or(0));
        actual.firms += firms;
        let c = cities.entry(city).or_insert_with(|| CityBreakdown { city, ..CityBreakdown::default() });
        c.firms += firms;
        c.pool_firms += pool;
        match tier {
            Some(Tier::InnovativeSme) => {
                c.innovative_sme += firms;
                actual.innovative_sme += firms;
            }
            Some(Tier::ProvincialSrdi) => {
                c.provincial_srdi += firms;
                actual.provincial_srdi += firms;
            }
            Some(Tier::LittleGiant) => {
                c.little_giant += firms;
                actual.little_giant += firms;
            }
            None => {}
        }
        let t = tiers.entry(tier).or_insert_with(|| TierBreakdown {
            tier,
            firms: 0,
            pool_firms: 0,
            firms_with_rd_data: 0,
            avg_rd_ratio_pct: None,
            avg_invention_patents: None,
        });
        t.firms += firms;
        t.pool_firms += pool;
    }

    actual.provincial_srdi_or_above = actual.provincial_srdi + actual.little_giant;

    let rows = sqlx::query(
        "SELECT f.tier, COUNT(*) AS n, AVG(CAST(fi.rd_expense AS DOUBLE PRECISION) / fi.revenue) AS rd, \
         AVG(CAST(fi.invention_patents AS DOUBLE PRECISION)) AS patents \
         FROM financials fi JOIN firms f ON f.id = fi.firm_id \
         WHERE fi.fiscal_year = $1 AND fi.revenue > 0 AND fi.rd_expense IS NOT NULL GROUP BY f.tier",
    )
    .bind(i64::from(fiscal_year))
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let tier: Option<Tier> = r.opt_vocab("tier")?;
        let rd: Option<f64> = sqlx::Row::try_get(r, "rd")?;
        let patents: Option<f64> = sqlx::Row::try_get(r, "patents")?;
        if let Some(t) = tiers.get_mut(&tier) {
            t.firms_with_rd_data = r.int("n")?;
            t.avg_rd_ratio_pct = pct(rd);
            t.avg_invention_patents = avg(patents);
        }
        match tier {
            Some(Tier::ProvincialSrdi) => actual.provincial_srdi_avg_rd_ratio_pct = pct(rd),
            Some(Tier::LittleGiant) => {
                actual.little_giant_avg_rd_ratio_pct = pct(rd);
                actual.little_giant_avg_invention_patents = avg(patents);
            }
            _ => {}
        }
    }

    let mut venues: BTreeMap<Venue, VenueBreakdown> = Venue::ALL
        .iter()
        .map(|v| {
            (*v, VenueBreakdown { venue: *v, pool_firms: 0, key_firms: 0, stages: Vec::new(), listed_since_2022: 0 })
        })
        .collect();
    let rows = sqlx::query(
        "SELECT target_venue, COUNT(*) AS n, SUM(CASE WHEN key_firm = $1 THEN 1 ELSE 0 END) AS key_firms \
         FROM reserve_pool GROUP BY target_venue",
    )
    .bind(true)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let v: Venue = r.vocab("target_venue")?;
        let (n, k) = (r.int("n")?, r.opt_int("key_firms")?.unwrap_or(0));
        actual.reserve_pool_size += n;
        actual.key_reserve_firms += k;
        if let Some(b) = venues.get_mut(&v) {
            b.pool_firms = n;
            b.key_firms = k;
        }
    }

    let rows = sqlx::query(
        // A firm listed on an exchange is no longer quoted on the NEEQ, whatever its last NEEQ stage.
        "SELECT ls.venue, ls.current_stage, COUNT(*) AS n FROM listing_status ls WHERE ls.current_stage IS NOT NULL \
         AND NOT (ls.venue = 'neeq' AND EXISTS (SELECT 1 FROM listing_status x WHERE x.firm_id = ls.firm_id \
         AND x.venue IN ('bse', 'star', 'chinext') AND x.current_stage = 'listed')) \
         GROUP BY ls.venue, ls.current_stage ORDER BY ls.venue, ls.current_stage",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let v: Venue = r.vocab("venue")?;
        let stage: ListingStage = r.vocab("current_stage")?;
        let n = r.int("n")?;
        if v == Venue::RegionalSrdiBoard && stage == ListingStage::RegionalListed {
            actual.srdi_board_firms += n;
        }
        if let Some(b) = venues.get_mut(&v) {
            b.stages.push(StageCount { stage, firms: n });
        }
    }

    let year_text = year.to_string();
    let rows = sqlx::query(
        "SELECT ls.venue, f.city, COUNT(*) AS n, SUM(CASE WHEN SUBSTR(ls.listed_on, 1, 4) = $1 THEN 1 ELSE 0 END) AS in_year \
         FROM listing_status ls JOIN firms f ON f.id = ls.firm_id \
         WHERE ls.listed_on >= '2022-01-01' GROUP BY ls.venue, f.city",
    )
    .bind(&year_text)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let v: Venue = r.vocab("venue")?;
        let city: Option<City> = r.opt_vocab("city")?;
        let (n, in_year) = (r.int("n")?, r.opt_int("in_year")?.unwrap_or(0));
        if let Some(b) = venues.get_mut(&v) {
            b.listed_since_2022 += n;
        }
        if EXCHANGES.contains(&v) {
            actual.new_listings_since_2022 += n;
            actual.new_listings_in_year += in_year;
            cities
                .entry(city)
                .or_insert_with(|| CityBreakdown { city, ..CityBreakdown::default() })
                .exchange_listings_since_2022 += n;
        }
    }

    let row = sqlx::query("SELECT COUNT(DISTINCT firm_id) AS n FROM listing_status WHERE SUBSTR(reform_on, 1, 4) = $1")
        .bind(&year_text)
        .fetch_one(&mut *conn)
        .await?;
    actual.shareholding_reforms_in_year = row.int("n")?;
    srdi_counts(conn, &year_text, &mut actual).await?;

    let (projects, amount) = crate::store::investments::investment_totals_by_year(conn, year).await?;
    actual.fund_projects_in_year = Some(projects);
    actual.fund_amount_in_year = Some(amount.round_dp(2));
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM roadshows WHERE status IN ('published', 'closed', 'completed') AND SUBSTR(starts_at, 1, 4) = $1",
    )
    .bind(&year_text)
    .fetch_one(&mut *conn)
    .await?;
    actual.roadshows_in_year = Some(row.int("n")?);

    let plan = Plan::builtin().map_err(|e| anyhow::anyhow!("programme targets: {e}"))?;
    let mut targets = Vec::with_capacity(plan.targets.len());
    for t in &plan.targets {
        let value = match t.metric {
            Some(metric) => Some(measure(conn, &plan, t, metric, year, &actual).await?),
            None => None,
        };
        targets.push(assess(t, value.as_ref()));
    }
    Ok(ProgrammeStats {
        year,
        fiscal_year,
        plan: PlanSummary {
            plan: plan.plan.clone(),
            issued_by: plan.issued_by.clone(),
            issued_on: plan.issued_on,
            first_year: plan.first_year,
            horizon_year: plan.horizon_year,
            notes: plan.notes.clone(),
        },
        targets,
        actual,
        by_venue: venues.into_values().collect(),
        by_city: cities.into_values().collect(),
        by_tier: tiers.into_values().collect(),
    })
}

/// Tiers that make a firm 专精特新 in the plan's sense (二(一)): provincial title or 小巨人.
const SRDI: &str = "('provincial_srdi', 'little_giant')";

/// The 专精特新 subsets of the pool, listing, board and reform counts.
async fn srdi_counts(conn: &mut Conn, year_text: &str, actual: &mut Actuals) -> AppResult<()> {
    let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM firms WHERE in_reserve_pool = $1 AND tier IN {SRDI}"))
        .bind(true)
        .fetch_one(&mut *conn)
        .await?;
    actual.srdi_reserve_pool_size = row.int("n")?;
    let row = sqlx::query(&format!(
        "SELECT COUNT(DISTINCT ls.firm_id) AS n FROM listing_status ls JOIN firms f ON f.id = ls.firm_id \
         WHERE ls.venue IN ('bse', 'star', 'chinext') AND ls.listed_on >= '2022-01-01' AND f.tier IN {SRDI}"
    ))
    .fetch_one(&mut *conn)
    .await?;
    actual.srdi_new_listings_since_2022 = row.int("n")?;
    let row = sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM listing_status ls JOIN firms f ON f.id = ls.firm_id \
         WHERE ls.venue = 'regional_srdi_board' AND ls.current_stage = 'regional_listed' AND f.tier IN {SRDI}"
    ))
    .fetch_one(&mut *conn)
    .await?;
    actual.srdi_board_firms_srdi = row.int("n")?;
    let row = sqlx::query(&format!(
        "SELECT COUNT(DISTINCT ls.firm_id) AS n FROM listing_status ls JOIN firms f ON f.id = ls.firm_id \
         WHERE SUBSTR(ls.reform_on, 1, 4) = $1 AND f.tier IN {SRDI}"
    ))
    .bind(year_text)
    .fetch_one(&mut *conn)
    .await?;
    actual.srdi_shareholding_reforms_in_year = row.int("n")?;
    Ok(())
}

fn count(n: i64) -> Option<Decimal> {
    Some(Decimal::from(n))
}

/// `hit` of `n` firms, in percent, truncated to 4 places (so a share shown as reaching a target
/// never rounded up to it); `None` over no firm.
fn share(hit: i64, n: i64) -> Option<Decimal> {
    if n == 0 {
        return None;
    }
    (Decimal::from(hit) * Decimal::ONE_HUNDRED)
        .checked_div(Decimal::from(n))
        .map(|x| x.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero))
}

fn share_value(hit: i64, n: i64, population: i64) -> MetricValue {
    MetricValue {
        actual: share(hit, n),
        firms_counted: Some(n),
        population: Some(population),
        ..MetricValue::default()
    }
}

/// Counts firms of `tiers` in a query returning `n` (known) and `hit` (at or above), binding
/// `binds` after the fiscal year ($1), and the population of those tiers.
async fn share_of(
    conn: &mut Conn,
    tiers: &str,
    from_where: &str,
    hit: &str,
    fiscal_year: i32,
    threshold: Option<f64>,
) -> AppResult<MetricValue> {
    let sql = format!(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN {hit} THEN 1 ELSE 0 END) AS hit {from_where} AND f.tier IN {tiers}"
    );
    let mut q = sqlx::query(&sql).bind(i64::from(fiscal_year));
    if let Some(t) = threshold {
        q = q.bind(t);
    }
    let row = q.fetch_one(&mut *conn).await?;
    let (n, hit) = (row.int("n")?, row.opt_int("hit")?.unwrap_or(0));
    let pop = sqlx::query(&format!("SELECT COUNT(*) AS n FROM firms f WHERE f.tier IN {tiers}"))
        .fetch_one(&mut *conn)
        .await?
        .int("n")?;
    Ok(share_value(hit, n, pop))
}

const LITTLE_GIANT: &str = "('little_giant')";
/// Tier inputs of the fiscal year ($1), joined to their firm.
const TIER_INPUTS: &str = "FROM tier_inputs ti JOIN firms f ON f.id = ti.firm_id WHERE ti.fiscal_year = $1";

/// The figure one target reads. Fiscal figures read `year − 1`.
async fn measure(
    conn: &mut Conn,
    plan: &Plan,
    t: &Target,
    metric: ProgrammeMetric,
    year: i32,
    a: &Actuals,
) -> AppResult<MetricValue> {
    use ProgrammeMetric as M;
    let fy = year - 1;
    let threshold = t.firm_threshold.and_then(|d| d.to_f64());
    let plain = |v: Option<Decimal>| MetricValue { actual: v, ..MetricValue::default() };
    let with_all =
        |v: i64, all: i64| MetricValue { actual: count(v), actual_all_firms: count(all), ..MetricValue::default() };
    Ok(match metric {
        M::InnovativeSmeOrAbove => plain(count(a.innovative_sme + a.provincial_srdi + a.little_giant)),
        M::ProvincialSrdiOrAbove => plain(count(a.provincial_srdi_or_above)),
        M::LittleGiant => plain(count(a.little_giant)),
        M::ProvincialSrdiNewSincePlan | M::LittleGiantNewSincePlan => {
            let (tier, tiers) = if metric == M::LittleGiantNewSincePlan {
                ("little_giant", LITTLE_GIANT)
            } else {
                ("provincial_srdi", SRDI)
            };
            // The first recognition year of the tier: the office's record, else the firm's own
            // recognition year when its current tier is this one.
            let sql = format!(
                "SELECT COUNT(*) AS pop, \
                 SUM(CASE WHEN y >= $2 AND y <= $3 THEN 1 ELSE 0 END) AS n, \
                 SUM(CASE WHEN y IS NULL THEN 1 ELSE 0 END) AS unknown FROM ( \
                   SELECT COALESCE(r.recognized_year, CASE WHEN f.tier = $1 THEN f.tier_recognized_year END) AS y \
                   FROM firms f LEFT JOIN tier_recognitions r ON r.firm_id = f.id AND r.tier = $1 \
                   WHERE f.tier IN {tiers}) t"
            );
            let row = sqlx::query(&sql)
                .bind(tier)
                .bind(i64::from(plan.first_year))
                .bind(i64::from(year))
                .fetch_one(&mut *conn)
                .await?;
            MetricValue {
                actual: count(row.opt_int("n")?.unwrap_or(0)),
                population: Some(row.int("pop")?),
                firms_year_unknown: Some(row.opt_int("unknown")?.unwrap_or(0)),
                ..MetricValue::default()
            }
        }
        M::SrdiRdRatioShare => {
            share_of(
                conn,
                SRDI,
                "FROM financials fi JOIN firms f ON f.id = fi.firm_id \
                 WHERE fi.fiscal_year = $1 AND fi.revenue > 0 AND fi.rd_expense IS NOT NULL",
                "CAST(fi.rd_expense AS DOUBLE PRECISION) * 100 >= CAST(fi.revenue AS DOUBLE PRECISION) * $2",
                fy,
                threshold,
            )
            .await?
        }
        M::SrdiMainBusinessShare => {
            share_of(
                conn,
                SRDI,
                "FROM financials fi JOIN firms f ON f.id = fi.firm_id \
                 WHERE fi.fiscal_year = $1 AND fi.revenue > 0 AND fi.main_business_revenue IS NOT NULL",
                "CAST(fi.main_business_revenue AS DOUBLE PRECISION) * 100 >= CAST(fi.revenue AS DOUBLE PRECISION) * $2",
                fy,
                threshold,
            )
            .await?
        }
        M::SrdiRdInstitutionShare => {
            let from = format!("{TIER_INPUTS} AND ti.rd_institution_level IS NOT NULL");
            share_of(conn, SRDI, &from, "ti.rd_institution_level <> 'no_institution'", fy, None).await?
        }
        M::LittleGiantProvincialRdPlatformShare => {
            let from = format!("{TIER_INPUTS} AND ti.rd_institution_level IS NOT NULL");
            share_of(conn, LITTLE_GIANT, &from, "ti.rd_institution_level IN ('national', 'provincial')", fy, None)
                .await?
        }
        M::SrdiDigitalisationShare | M::LittleGiantDigitalisationShare => {
            let tiers = if metric == M::LittleGiantDigitalisationShare { LITTLE_GIANT } else { SRDI };
            let from = format!("{TIER_INPUTS} AND ti.digitalisation_level IS NOT NULL");
            share_of(conn, tiers, &from, "ti.digitalisation_level >= $2", fy, threshold).await?
        }
        M::SrdiCloudShare => {
            let from = format!("{TIER_INPUTS} AND ti.cloud_migrated IS NOT NULL");
            share_of(conn, SRDI, &from, "ti.cloud_migrated = TRUE", fy, None).await?
        }
        M::SrdiKeyChainShare | M::LittleGiantKeyChainShare => {
            let tiers = if metric == M::LittleGiantKeyChainShare { LITTLE_GIANT } else { SRDI };
            let from = format!("{TIER_INPUTS} AND ti.key_chain_supplier IS NOT NULL");
            share_of(conn, tiers, &from, "ti.key_chain_supplier = TRUE", fy, None).await?
        }
        M::LittleGiantInventionPatentsMean => {
            let row = sqlx::query(&format!(
                "SELECT COUNT(fi.invention_patents) AS n, CAST(COALESCE(SUM(fi.invention_patents), 0) AS BIGINT) AS total \
                 FROM financials fi JOIN firms f ON f.id = fi.firm_id WHERE fi.fiscal_year = $1 AND f.tier IN {LITTLE_GIANT}"
            ))
            .bind(i64::from(fy))
            .fetch_one(&mut *conn)
            .await?;
            let (n, total) = (row.int("n")?, row.opt_int("total")?.unwrap_or(0));
            let mean = (n > 0).then(|| {
                (Decimal::from(total) / Decimal::from(n))
                    .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero)
            });
            MetricValue {
                actual: mean,
                firms_counted: Some(n),
                population: Some(a.little_giant),
                ..MetricValue::default()
            }
        }
        M::LittleGiantRdRatioMean => {
            let row = sqlx::query(&format!(
                "SELECT COUNT(*) AS n, AVG(CAST(fi.rd_expense AS DOUBLE PRECISION) / fi.revenue) AS rd \
                 FROM financials fi JOIN firms f ON f.id = fi.firm_id \
                 WHERE fi.fiscal_year = $1 AND fi.revenue > 0 AND fi.rd_expense IS NOT NULL AND f.tier IN {LITTLE_GIANT}"
            ))
            .bind(i64::from(fy))
            .fetch_one(&mut *conn)
            .await?;
            let mean: Option<f64> = sqlx::Row::try_get(&row, "rd")?;
            MetricValue {
                actual: mean
                    .and_then(|x| Decimal::from_f64(x * 100.0))
                    .map(|d| d.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero)),
                firms_counted: Some(row.int("n")?),
                population: Some(a.little_giant),
                ..MetricValue::default()
            }
        }
        M::SrdiNewlyCloudMigrated => {
            let row = sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM tier_inputs cur \
                 JOIN tier_inputs prev ON prev.firm_id = cur.firm_id AND prev.fiscal_year = $2 \
                 JOIN firms f ON f.id = cur.firm_id \
                 WHERE cur.fiscal_year = $1 AND cur.cloud_migrated = TRUE AND prev.cloud_migrated = FALSE AND f.tier IN {SRDI}"
            ))
            .bind(i64::from(fy))
            .bind(i64::from(fy - 1))
            .fetch_one(&mut *conn)
            .await?;
            plain(count(row.int("n")?))
        }
        M::SrdiLoansDisbursed => {
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
            MetricValue {
                actual: Some(crate::db::types::yuan(row.opt_int("cur")?.unwrap_or(0))),
                previous: Some(crate::db::types::yuan(row.opt_int("prev")?.unwrap_or(0))),
                ..MetricValue::default()
            }
        }
        M::RoadshowsInYear => plain(a.roadshows_in_year.map(Decimal::from)),
        M::FundProjectsInYear => plain(a.fund_projects_in_year.map(Decimal::from)),
        M::FundAmountInYear => plain(a.fund_amount_in_year),
        M::IndustrialCapitalRoundsInYear | M::IndustrialCapitalAmountInYear => {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM equity_rounds \
                 WHERE investor_kind = 'industrial_capital' AND SUBSTR(paid_in_on, 1, 4) = $1",
            )
            .bind(year.to_string())
            .fetch_one(&mut *conn)
            .await?;
            if metric == M::IndustrialCapitalRoundsInYear {
                plain(count(row.int("n")?))
            } else {
                plain(Some(crate::db::types::yuan(row.opt_int("total")?.unwrap_or(0))))
            }
        }
        M::SrdiReservePool => with_all(a.srdi_reserve_pool_size, a.reserve_pool_size),
        M::SrdiNewListingsSincePlan => with_all(a.srdi_new_listings_since_2022, a.new_listings_since_2022),
        M::SrdiOnRegionalBoard => with_all(a.srdi_board_firms_srdi, a.srdi_board_firms),
        M::SrdiShareholdingReformsInYear => {
            with_all(a.srdi_shareholding_reforms_in_year, a.shareholding_reforms_in_year)
        }
    })
}

/// The statistics as CSV rows: section, dimension, metric, actual, target, status, note. Target
/// rows come first (`target`, the plan's section, the target id), then the programme totals,
/// then the breakdowns by venue, city and tier.
pub fn to_csv(s: &ProgrammeStats) -> anyhow::Result<Vec<u8>> {
    let mut w = CsvWriter::in_memory();
    w.row(["section", "dimension", "metric", "actual", "target", "status", "note"])?;
    let opt = |d: &Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    for t in &s.targets {
        let note = match &t.not_tracked_reason {
            Some(reason) => format!("{} — {reason}", t.wording_zh),
            None => t.wording_zh.clone(),
        };
        w.row(["target", &t.section, &t.id, &opt(&t.actual), &opt(&t.target), t.status.as_str(), &note])?;
        if t.actual_all_firms.is_some() {
            let metric = format!("{}:all_firms", t.id);
            w.row(["target", &t.section, &metric, &opt(&t.actual_all_firms), "", "", "every firm, 专精特新 or not"])?;
        }
    }
    // Every programme total, named as in the JSON `actual` object.
    let y = s.year.to_string();
    if let Ok(serde_json::Value::Object(totals)) = serde_json::to_value(&s.actual) {
        for (name, value) in totals {
            let shown = match value {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(v) => v,
                v => v.to_string(),
            };
            w.row(["programme", &y, &name, &shown, "", "", ""])?;
        }
    }
    for v in &s.by_venue {
        let d = v.venue.to_string();
        for (m, val) in
            [("pool_firms", v.pool_firms), ("key_firms", v.key_firms), ("listed_since_2022", v.listed_since_2022)]
        {
            w.row(["venue", &d, m, &val.to_string(), "", "", ""])?;
        }
        for st in &v.stages {
            w.row(["venue", &d, &format!("stage:{}", st.stage), &st.firms.to_string(), "", "", ""])?;
        }
    }
    for c in &s.by_city {
        let d = c.city.map(|c| c.to_string()).unwrap_or_default();
        for (m, val) in [
            ("firms", c.firms),
            ("pool_firms", c.pool_firms),
            ("innovative_sme", c.innovative_sme),
            ("provincial_srdi", c.provincial_srdi),
            ("little_giant", c.little_giant),
            ("exchange_listings_since_2022", c.exchange_listings_since_2022),
        ] {
            w.row(["city", &d, m, &val.to_string(), "", "", ""])?;
        }
    }
    for tb in &s.by_tier {
        let d = tb.tier.map(|t| t.to_string()).unwrap_or_else(|| "none".into());
        w.row(["tier", &d, "firms", &tb.firms.to_string(), "", "", ""])?;
        w.row(["tier", &d, "pool_firms", &tb.pool_firms.to_string(), "", "", ""])?;
        w.row(["tier", &d, "avg_rd_ratio_pct", &opt(&tb.avg_rd_ratio_pct), "", "", ""])?;
        w.row(["tier", &d, "avg_invention_patents", &opt(&tb.avg_invention_patents), "", "", ""])?;
    }
    w.finish()
}
