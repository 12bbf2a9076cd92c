//! Programme statistics against the provincial plan's 2025 targets (鲁政办字〔2022〕 plan, section 三
//! and tasks 20–21). Counts are grouped in SQL; nothing here loads the population into memory.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::row::RowExt;
use crate::domain::firm::{City, Tier, Venue};
use crate::domain::listing_stage::ListingStage;
use crate::error::AppResult;
use crate::store::Conn;

/// The plan's figures. `new_listings_by_2025` counts exchange listings (BSE, STAR, ChiNext) since 2022.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Targets {
    pub reserve_pool_min: i64,
    pub new_listings_by_2025: i64,
    pub srdi_board_min: i64,
    pub shareholding_reforms_per_year: i64,
    pub roadshows_per_year: i64,
    pub fund_projects_per_year: i64,
    #[schema(value_type = String)]
    pub fund_amount_per_year: Decimal,
    pub provincial_srdi_cumulative: i64,
    pub little_giant_cumulative: i64,
    #[schema(value_type = String)]
    pub provincial_srdi_rd_ratio_pct: Decimal,
    #[schema(value_type = String)]
    pub little_giant_rd_ratio_pct: Decimal,
    #[schema(value_type = String)]
    pub little_giant_invention_patents: Decimal,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            reserve_pool_min: 1000,
            new_listings_by_2025: 80,
            srdi_board_min: 400,
            shareholding_reforms_per_year: 100,
            roadshows_per_year: 20,
            fund_projects_per_year: 100,
            fund_amount_per_year: Decimal::from(20_000_000_000i64),
            provincial_srdi_cumulative: 10_000,
            little_giant_cumulative: 750,
            provincial_srdi_rd_ratio_pct: Decimal::from(3),
            little_giant_rd_ratio_pct: Decimal::from(7),
            little_giant_invention_patents: Decimal::from(15),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Actuals {
    pub reserve_pool_size: i64,
    pub key_reserve_firms: i64,
    /// Exchange listings (BSE, STAR, ChiNext) reached since 2022-01-01.
    pub new_listings_since_2022: i64,
    /// Exchange listings reached in `year`.
    pub new_listings_in_year: i64,
    pub srdi_board_firms: i64,
    pub shareholding_reforms_in_year: i64,
    pub firms: i64,
    pub innovative_sme: i64,
    pub provincial_srdi: i64,
    pub little_giant: i64,
    /// Mean of each firm's R&D expense ÷ revenue in `fiscal_year`, in percent.
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgrammeStats {
    pub year: i32,
    /// The fiscal year whose financials the R&D and patent figures use (`year` − 1).
    pub fiscal_year: i32,
    pub targets: Targets,
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
        "SELECT venue, current_stage, COUNT(*) AS n FROM listing_status WHERE current_stage IS NOT NULL \
         GROUP BY venue, current_stage ORDER BY venue, current_stage",
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

    Ok(ProgrammeStats {
        year,
        fiscal_year,
        targets: Targets::default(),
        actual,
        by_venue: venues.into_values().collect(),
        by_city: cities.into_values().collect(),
        by_tier: tiers.into_values().collect(),
    })
}

/// The statistics as CSV rows: section, dimension, metric, actual, target.
pub fn to_csv(s: &ProgrammeStats) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["section", "dimension", "metric", "actual", "target"])?;
    let opt = |d: &Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    let oi = |d: &Option<i64>| d.map(|d| d.to_string()).unwrap_or_default();
    let a = &s.actual;
    let t = &s.targets;
    let y = s.year.to_string();
    let rows: Vec<[String; 5]> = vec![
        [
            "programme".into(),
            y.clone(),
            "reserve_pool_size".into(),
            a.reserve_pool_size.to_string(),
            t.reserve_pool_min.to_string(),
        ],
        ["programme".into(), y.clone(), "key_reserve_firms".into(), a.key_reserve_firms.to_string(), String::new()],
        [
            "programme".into(),
            y.clone(),
            "new_listings_since_2022".into(),
            a.new_listings_since_2022.to_string(),
            t.new_listings_by_2025.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "new_listings_in_year".into(),
            a.new_listings_in_year.to_string(),
            String::new(),
        ],
        [
            "programme".into(),
            y.clone(),
            "srdi_board_firms".into(),
            a.srdi_board_firms.to_string(),
            t.srdi_board_min.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "shareholding_reforms_in_year".into(),
            a.shareholding_reforms_in_year.to_string(),
            t.shareholding_reforms_per_year.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "provincial_srdi".into(),
            a.provincial_srdi.to_string(),
            t.provincial_srdi_cumulative.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "little_giant".into(),
            a.little_giant.to_string(),
            t.little_giant_cumulative.to_string(),
        ],
        ["programme".into(), y.clone(), "innovative_sme".into(), a.innovative_sme.to_string(), String::new()],
        [
            "programme".into(),
            y.clone(),
            "provincial_srdi_avg_rd_ratio_pct".into(),
            opt(&a.provincial_srdi_avg_rd_ratio_pct),
            t.provincial_srdi_rd_ratio_pct.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "little_giant_avg_rd_ratio_pct".into(),
            opt(&a.little_giant_avg_rd_ratio_pct),
            t.little_giant_rd_ratio_pct.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "little_giant_avg_invention_patents".into(),
            opt(&a.little_giant_avg_invention_patents),
            t.little_giant_invention_patents.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "roadshows_in_year".into(),
            oi(&a.roadshows_in_year),
            t.roadshows_per_year.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "fund_projects_in_year".into(),
            oi(&a.fund_projects_in_year),
            t.fund_projects_per_year.to_string(),
        ],
        [
            "programme".into(),
            y.clone(),
            "fund_amount_in_year".into(),
            opt(&a.fund_amount_in_year),
            t.fund_amount_per_year.to_string(),
        ],
    ];
    for r in rows {
        w.write_record(&r)?;
    }
    for v in &s.by_venue {
        let d = v.venue.to_string();
        w.write_record(["venue", &d, "pool_firms", &v.pool_firms.to_string(), ""])?;
        w.write_record(["venue", &d, "key_firms", &v.key_firms.to_string(), ""])?;
        w.write_record(["venue", &d, "listed_since_2022", &v.listed_since_2022.to_string(), ""])?;
        for st in &v.stages {
            w.write_record(["venue", &d, &format!("stage:{}", st.stage), &st.firms.to_string(), ""])?;
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
            w.write_record(["city", &d, m, &val.to_string(), ""])?;
        }
    }
    for tb in &s.by_tier {
        let d = tb.tier.map(|t| t.to_string()).unwrap_or_else(|| "none".into());
        w.write_record(["tier", &d, "firms", &tb.firms.to_string(), ""])?;
        w.write_record(["tier", &d, "pool_firms", &tb.pool_firms.to_string(), ""])?;
        w.write_record(["tier", &d, "avg_rd_ratio_pct", &opt(&tb.avg_rd_ratio_pct), ""])?;
        w.write_record(["tier", &d, "avg_invention_patents", &opt(&tb.avg_invention_patents), ""])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
