//! The matching engine: firm × product → eligible?, score, met and unmet rules, and for each
//! unmet rule what it would take (in Chinese and English).
//!
//! Two paths share one rule implementation (`check`), so they cannot disagree:
//! - [`evaluate`] — the hot path. It works on precompiled views ([`FirmFacts`] once per firm and
//!   evaluation date, [`CompiledProduct`] once per product version): integers, bitmasks and
//!   packed industry codes; it allocates nothing and returns a `Copy` [`Verdict`].
//! - [`explain`] — builds the [`MatchOutcome`] with actual and required values and advice, for the
//!   rows the service materialises and shows.
//!
//! Materialisation: compare the new [`Verdict`] with the stored one (`eligible`, `score`,
//! `RuleSet::bits` of met/unmet/unknown) to skip unchanged pairs cheaply, and use
//! [`MatchOutcome::fingerprint`] (a stable 64-bit hash of everything shown) or
//! [`MatchOutcome::change_from`] to decide whether a stored explanation must be rewritten.
//! Time alone changes outcomes too (anniversaries, validity windows): [`recheck_on`] gives the
//! date on which each pair must be looked at again.
//!
//! # Score
//!
//! Only firm-side rules the product actually constrains count (`n` of them). Each yields:
//! - *comfort* when met, 0..=100: for a numeric minimum `r` and actual `a`,
//!   `min(100, floor(100 × (a − r) / r))` (100 when `r ≤ 0`), i.e. full comfort at twice the
//!   threshold; any pass of a yes/no or list rule is 100;
//! - *progress* towards the threshold: 100 when met; for an unmet numeric rule with a known
//!   actual `floor(100 × max(a, 0) / r)` (0..=99); 0 for an unmet list rule or unknown data.
//!
//! Then, in integer arithmetic (floor division):
//! - eligible: `score = 60 + floor(40 × Σcomfort / (100 × n))`, so 60..=100; `n = 0` gives 100
//!   (an unconstrained product fits everyone fully);
//! - not eligible: `score = floor(59 × Σprogress / (100 × n))`, so 0..=58 — it rises with every
//!   rule met and with how close a numeric shortfall is;
//! - product withdrawn or outside its validity window: 0.
//!
//! Every eligible firm therefore outranks every ineligible one, and the score never falls when a
//! firm's figures rise.
//!
//! # Data
//!
//! Money is compared in integer fen, the R&D ratio in integer parts per million (exact: the
//! firm's ratio is floored and thresholds have at most six decimals, and `floor(x) ≥ n ⇔ x ≥ n`
//! for integer `n`), years in operation in whole months counted from the founding date's
//! monthly anniversary. A constrained rule whose firm datum is missing is unmet, with
//! `actual: null`. Financial rules read the firm's latest fiscal year only: an older year's
//! figure would be stale evidence.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::ids::{BankId, FirmId};

use crate::domain::firm::{City, FinancialYear, Firm, TaxCreditGrade, Tier, Venue};
use crate::domain::product::{Eligibility, LoanProduct, within};

mod advice;
mod encoding;
mod explanation;
mod fingerprint;
mod rules;
mod verdict;

use encoding::{
    city_bit, fen_ceil, fen_floor, full_months, grade_bit, normalise_industry, pack, ppm_ceil, tier_bit, unpack,
    venue_bit,
};
pub use explanation::{Advice, MatchOutcome, OutcomeChange, RuleResult, explain, near_miss, outcome};
pub use rules::{RuleKind, RuleSet};
pub use verdict::{Verdict, evaluate, recheck_on};

/// What the engine needs to know about a firm. Build it with [`MatchFirm::from_firm`] or by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchFirm {
    pub id: FirmId,
    pub city: City,
    /// GB/T 4754 code as recorded, e.g. `C3562`; a bare `3562` is read as `C3562`.
    pub industry_code: String,
    pub tier: Option<Tier>,
    pub founded_on: Option<NaiveDate>,
    pub tax_credit_grade: Option<TaxCreditGrade>,
    pub lead_bank_id: Option<BankId>,
    pub in_reserve_pool: bool,
    /// Venues the firm is working towards (from its listing events).
    pub target_venues: Vec<Venue>,
    /// The fiscal year the three figures below come from.
    pub fiscal_year: Option<i32>,
    pub revenue: Option<Decimal>,
    pub rd_expense: Option<Decimal>,
    pub invention_patents: Option<i64>,
}

impl MatchFirm {
    /// The view of `firm` with its latest fiscal year from `financials` (any order).
    pub fn from_firm(firm: &Firm, financials: &[FinancialYear], target_venues: &[Venue]) -> MatchFirm {
        let latest = latest_year(financials);
        MatchFirm {
            id: firm.id,
            city: firm.city,
            industry_code: firm.industry_code.clone(),
            tier: firm.tier,
            founded_on: firm.founded_on,
            tax_credit_grade: firm.tax_credit_grade,
            lead_bank_id: firm.lead_bank_id,
            in_reserve_pool: firm.in_reserve_pool,
            target_venues: target_venues.to_vec(),
            fiscal_year: latest.map(|y| y.fiscal_year),
            revenue: latest.and_then(|y| y.revenue),
            rd_expense: latest.and_then(|y| y.rd_expense),
            invention_patents: latest.and_then(|y| y.invention_patents),
        }
    }
}

/// The fiscal year the financial rules read: the newest one, even if some figures are missing,
/// because an older year's figure would be stale evidence.
pub fn latest_year(financials: &[FinancialYear]) -> Option<&FinancialYear> {
    financials.iter().max_by_key(|y| y.fiscal_year)
}

/// What the engine needs to know about a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchProduct {
    pub id: Uuid,
    pub bank_id: BankId,
    pub eligibility: Eligibility,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub active: bool,
}

impl From<&LoanProduct> for MatchProduct {
    fn from(p: &LoanProduct) -> Self {
        MatchProduct {
            id: p.id,
            bank_id: p.bank_id,
            eligibility: p.eligibility.clone(),
            valid_from: p.valid_from,
            valid_to: p.valid_to,
            active: p.active,
        }
    }
}

/// A firm reduced to integers and bitmasks for one evaluation date. Build once per firm per
/// date and reuse across all products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmFacts {
    pub firm_id: FirmId,
    pub on: NaiveDate,
    city: City,
    tier: Option<Tier>,
    grade: Option<TaxCreditGrade>,
    venues: u8,
    in_pool: bool,
    lead_bank: Option<BankId>,
    /// Upper-case code packed big-endian into a u64 (at most 8 bytes), so a prefix test is one
    /// mask and compare; `None` when the code is empty or not packable.
    industry: Option<u64>,
    founded_on: Option<NaiveDate>,
    months: Option<i64>,
    revenue_fen: Option<i64>,
    rd_fen: Option<i64>,
    rd_ppm: Option<i64>,
    patents: Option<i64>,
}

impl FirmFacts {
    pub fn new(firm: &MatchFirm, on: NaiveDate) -> FirmFacts {
        let revenue_fen = firm.revenue.map(fen_floor);
        let rd_fen = firm.rd_expense.map(fen_floor);
        // A ratio over zero or negative revenue means nothing: report it as unknown.
        let rd_ppm = match (rd_fen, revenue_fen) {
            (Some(rd), Some(rev)) if rev > 0 => {
                let ppm = (i128::from(rd) * 1_000_000).div_euclid(i128::from(rev));
                Some(i64::try_from(ppm).unwrap_or(if ppm > 0 { i64::MAX } else { i64::MIN }))
            }
            _ => None,
        };
        FirmFacts {
            firm_id: firm.id,
            on,
            city: firm.city,
            tier: firm.tier,
            grade: firm.tax_credit_grade,
            venues: firm.target_venues.iter().fold(0, |m, v| m | venue_bit(*v)),
            in_pool: firm.in_reserve_pool,
            lead_bank: firm.lead_bank_id,
            industry: normalise_industry(&firm.industry_code).and_then(|c| pack(&c)),
            founded_on: firm.founded_on,
            months: firm.founded_on.map(|f| full_months(f, on)),
            revenue_fen,
            rd_fen,
            rd_ppm,
            patents: firm.invention_patents,
        }
    }
}

/// A product's eligibility precompiled for [`evaluate`]. Build once per product version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledProduct {
    pub id: Uuid,
    pub bank_id: BankId,
    /// Firm-side rules this product constrains.
    rules: RuleSet,
    /// Accepted tiers, closed upwards along the ladder.
    tiers: u8,
    grades: u8,
    venues: u8,
    cities: u16,
    min_months: i64,
    min_revenue_fen: i64,
    min_rd_ppm: i64,
    min_patents: i64,
    prefixes: Box<[Prefix]>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Prefix {
    value: u64,
    mask: u64,
}

impl CompiledProduct {
    /// Never fails: unusable data (an unpackable prefix, a threshold beyond range) compiles to a
    /// rule nobody meets rather than to no rule, so bad data narrows a product, never widens it.
    pub fn new(p: &MatchProduct) -> CompiledProduct {
        let e = &p.eligibility;
        let mut rules = RuleSet::EMPTY;
        let mut flag = |on: bool, r: RuleKind| {
            if on {
                rules.insert(r);
            }
        };
        flag(!e.tiers.is_empty(), RuleKind::Tiers);
        flag(e.min_years_in_operation.is_some(), RuleKind::MinYearsInOperation);
        flag(e.min_revenue.is_some(), RuleKind::MinRevenue);
        flag(e.min_rd_ratio.is_some(), RuleKind::MinRdRatio);
        flag(e.min_invention_patents.is_some(), RuleKind::MinInventionPatents);
        flag(!e.tax_credit_grades.is_empty(), RuleKind::TaxCreditGrades);
        flag(!e.cities.is_empty(), RuleKind::Cities);
        flag(!e.industry_prefixes.is_empty(), RuleKind::IndustryPrefixes);
        flag(e.reserve_pool_only, RuleKind::ReservePoolOnly);
        flag(e.lead_bank_only, RuleKind::LeadBankOnly);
        flag(!e.target_venues.is_empty(), RuleKind::TargetVenues);

        let lowest_tier = e.tiers.iter().map(|t| *t as u8).min();
        let tiers =
            lowest_tier.map_or(0, |lo| Tier::ALL.iter().filter(|t| **t as u8 >= lo).fold(0, |m, t| m | tier_bit(*t)));
        let prefixes = e
            .industry_prefixes
            .iter()
            .filter_map(|raw| {
                let code = raw.trim().to_ascii_uppercase();
                let len = code.len();
                pack(&code).map(|value| Prefix { value, mask: u64::MAX << (64 - 8 * len) })
            })
            .collect();

        CompiledProduct {
            id: p.id,
            bank_id: p.bank_id,
            rules,
            tiers,
            grades: e.tax_credit_grades.iter().fold(0, |m, g| m | grade_bit(*g)),
            venues: e.target_venues.iter().fold(0, |m, v| m | venue_bit(*v)),
            cities: e.cities.iter().fold(0, |m, c| m | city_bit(*c)),
            min_months: e.min_years_in_operation.map_or(0, |y| i64::from(y) * 12),
            min_revenue_fen: e.min_revenue.map_or(0, fen_ceil),
            min_rd_ppm: e.min_rd_ratio.map_or(0, ppm_ceil),
            min_patents: e.min_invention_patents.map_or(0, i64::from),
            prefixes,
            valid_from: p.valid_from,
            valid_to: p.valid_to,
            active: p.active,
        }
    }

    /// The firm-side rules this product constrains.
    pub fn rules(&self) -> RuleSet {
        self.rules
    }

    fn open_on(&self, date: NaiveDate) -> bool {
        self.active && within(date, self.valid_from, self.valid_to)
    }
}

#[cfg(test)]
mod tests;
