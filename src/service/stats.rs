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

use crate::domain::firm::{City, Tier, Venue};
use crate::domain::listing_stage::ListingStage;
use crate::domain::programme::{MetricValue, Plan, ProgrammeMetric, Target, TargetResult, assess};
use crate::error::{AppResult, Context as _};
use crate::store::Conn;
use crate::store::programme::{self, ShareOf, Tiers};

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
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
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

#[tracing::instrument(skip_all)]
pub async fn programme(conn: &mut Conn, year: i32) -> AppResult<ProgrammeStats> {
    let fiscal_year = year - 1;
    let mut actual = Actuals::default();
    let mut cities: BTreeMap<Option<City>, CityBreakdown> = BTreeMap::new();
    let mut tiers: BTreeMap<Option<Tier>, TierBreakdown> = BTreeMap::new();

    for r in programme::firms_by_city_and_tier(conn).await.context("counting firms by city and tier")? {
        let (city, tier, firms, pool) = (r.city, r.tier, r.firms, r.pool_firms);
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

    for r in programme::rd_by_tier(conn, fiscal_year).await.context("averaging R&D by tier")? {
        let (tier, rd, patents) = (r.tier, r.mean_rd_ratio, r.mean_invention_patents);
        if let Some(t) = tiers.get_mut(&tier) {
            t.firms_with_rd_data = r.firms;
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
    for (v, n, k) in programme::pool_by_venue(conn).await? {
        actual.reserve_pool_size += n;
        actual.key_reserve_firms += k;
        if let Some(b) = venues.get_mut(&v) {
            b.pool_firms = n;
            b.key_firms = k;
        }
    }

    for (v, stage, n) in programme::firms_by_stage(conn).await.context("counting listing stages")? {
        if v == Venue::RegionalSrdiBoard && stage == ListingStage::RegionalListed {
            actual.srdi_board_firms += n;
        }
        if let Some(b) = venues.get_mut(&v) {
            b.stages.push(StageCount { stage, firms: n });
        }
    }

    for (v, city, n, in_year) in programme::listings_since_2022(conn, year).await? {
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

    actual.shareholding_reforms_in_year = programme::shareholding_reforms(conn, year).await?;
    let srdi = programme::srdi_counts(conn, year).await?;
    actual.srdi_reserve_pool_size = srdi.reserve_pool;
    actual.srdi_new_listings_since_2022 = srdi.new_listings_since_2022;
    actual.srdi_board_firms_srdi = srdi.on_regional_board;
    actual.srdi_shareholding_reforms_in_year = srdi.shareholding_reforms_in_year;

    let (projects, amount) = crate::store::investments::investment_totals_by_year(conn, year).await?;
    actual.fund_projects_in_year = Some(projects);
    actual.fund_amount_in_year = Some(amount.round_dp(2));
    actual.roadshows_in_year = Some(programme::roadshows_in_year(conn, year).await?);

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

/// A share of firms from its counts.
async fn share_of(
    conn: &mut Conn,
    of: ShareOf,
    tiers: Tiers,
    fiscal_year: i32,
    threshold: Option<f64>,
) -> AppResult<MetricValue> {
    let c = programme::share(conn, of, tiers, fiscal_year, threshold).await?;
    Ok(share_value(c.hit, c.counted, c.population))
}

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
                (Tier::LittleGiant, Tiers::LittleGiant)
            } else {
                (Tier::ProvincialSrdi, Tiers::Srdi)
            };
            let (pop, n, unknown) = programme::recognised_since(conn, tier, tiers, plan.first_year, year).await?;
            MetricValue {
                actual: count(n),
                population: Some(pop),
                firms_year_unknown: Some(unknown),
                ..MetricValue::default()
            }
        }
        M::SrdiRdRatioShare => share_of(conn, ShareOf::RdRatio, Tiers::Srdi, fy, threshold).await?,
        M::SrdiMainBusinessShare => share_of(conn, ShareOf::MainBusiness, Tiers::Srdi, fy, threshold).await?,
        M::SrdiRdInstitutionShare => share_of(conn, ShareOf::RdInstitution, Tiers::Srdi, fy, None).await?,
        M::LittleGiantProvincialRdPlatformShare => {
            share_of(conn, ShareOf::ProvincialRdPlatform, Tiers::LittleGiant, fy, None).await?
        }
        M::SrdiDigitalisationShare | M::LittleGiantDigitalisationShare => {
            let tiers = if metric == M::LittleGiantDigitalisationShare { Tiers::LittleGiant } else { Tiers::Srdi };
            share_of(conn, ShareOf::Digitalisation, tiers, fy, threshold).await?
        }
        M::SrdiCloudShare => share_of(conn, ShareOf::Cloud, Tiers::Srdi, fy, None).await?,
        M::SrdiKeyChainShare | M::LittleGiantKeyChainShare => {
            let tiers = if metric == M::LittleGiantKeyChainShare { Tiers::LittleGiant } else { Tiers::Srdi };
            share_of(conn, ShareOf::KeyChain, tiers, fy, None).await?
        }
        M::LittleGiantInventionPatentsMean => {
            let (n, total) = programme::little_giant_invention_patents(conn, fy).await?;
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
            let (n, mean) = programme::little_giant_rd_ratio(conn, fy).await?;
            MetricValue {
                actual: mean
                    .and_then(|x| Decimal::from_f64(x * 100.0))
                    .map(|d| d.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero)),
                firms_counted: Some(n),
                population: Some(a.little_giant),
                ..MetricValue::default()
            }
        }
        M::SrdiNewlyCloudMigrated => plain(count(programme::srdi_newly_cloud_migrated(conn, fy).await?)),
        M::SrdiLoansDisbursed => {
            let (cur, prev) = programme::srdi_loans_disbursed_fen(conn, year).await?;
            MetricValue {
                actual: Some(crate::db::types::yuan(cur)),
                previous: Some(crate::db::types::yuan(prev)),
                ..MetricValue::default()
            }
        }
        M::RoadshowsInYear => plain(a.roadshows_in_year.map(Decimal::from)),
        M::FundProjectsInYear => plain(a.fund_projects_in_year.map(Decimal::from)),
        M::FundAmountInYear => plain(a.fund_amount_in_year),
        M::IndustrialCapitalRoundsInYear | M::IndustrialCapitalAmountInYear => {
            let (n, total) = programme::industrial_capital_rounds(conn, year).await?;
            if metric == M::IndustrialCapitalRoundsInYear {
                plain(count(n))
            } else {
                plain(Some(crate::db::types::yuan(total)))
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
