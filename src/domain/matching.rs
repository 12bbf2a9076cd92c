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

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::FirmId;

use crate::domain::firm::{City, FinancialYear, Firm, TaxCreditGrade, Tier, Venue, vocabulary};
use crate::domain::product::{Eligibility, LoanProduct, industry_section, within};

mod advice;
use advice::{actual, advice, required};

vocabulary!(
    /// A rule of a product's eligibility, plus two product-side conditions (`product_active`,
    /// `product_validity`) that only ever appear as unmet. The declaration order is the bit
    /// position in [`RuleSet`] and the order of rules in an outcome: append, never reorder.
    RuleKind {
        Tiers = "tiers" / "企业梯度层级",
        MinYearsInOperation = "min_years_in_operation" / "成立年限",
        MinRevenue = "min_revenue" / "营业收入",
        MinRdRatio = "min_rd_ratio" / "研发投入占比",
        MinInventionPatents = "min_invention_patents" / "发明专利数量",
        TaxCreditGrades = "tax_credit_grades" / "纳税信用等级",
        Cities = "cities" / "所在城市",
        IndustryPrefixes = "industry_prefixes" / "所属行业",
        ReservePoolOnly = "reserve_pool_only" / "上市后备资源库",
        LeadBankOnly = "lead_bank_only" / "主办行",
        TargetVenues = "target_venues" / "拟上市板块",
        ProductActive = "product_active" / "产品在售",
        ProductValidity = "product_validity" / "产品有效期",
    }
);

impl RuleKind {
    const fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Conditions about the product rather than the firm: failing them is no near miss and
    /// nothing the firm can fix.
    pub fn is_product_side(self) -> bool {
        matches!(self, RuleKind::ProductActive | RuleKind::ProductValidity)
    }
}

/// A set of rules as a bitmask. [`RuleSet::bits`] is stable (declaration order of [`RuleKind`])
/// and may be stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(u16);

const ALL_RULES: u16 = (1 << RuleKind::ALL.len()) - 1;
const PRODUCT_SIDE: u16 = RuleKind::ProductActive.bit() | RuleKind::ProductValidity.bit();

impl RuleSet {
    pub const EMPTY: RuleSet = RuleSet(0);

    pub fn contains(self, rule: RuleKind) -> bool {
        self.0 & rule.bit() != 0
    }

    pub fn insert(&mut self, rule: RuleKind) {
        self.0 |= rule.bit();
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn bits(self) -> u16 {
        self.0
    }

    /// Unknown bits (from a newer build) are dropped.
    pub fn from_bits(bits: u16) -> RuleSet {
        RuleSet(bits & ALL_RULES)
    }

    /// Only the firm-side rules.
    pub fn firm_side(self) -> RuleSet {
        RuleSet(self.0 & !PRODUCT_SIDE)
    }

    pub fn iter(self) -> impl Iterator<Item = RuleKind> {
        RuleKind::ALL.iter().copied().filter(move |r| self.contains(*r))
    }
}

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
    pub lead_bank_id: Option<Uuid>,
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
    pub bank_id: Uuid,
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
    lead_bank: Option<Uuid>,
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
    pub bank_id: Uuid,
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

/// The allocation-free result of [`evaluate`]. Equal verdicts mean equal eligibility, score and
/// rule partition; the displayed actual values may still differ (see [`MatchOutcome::fingerprint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Verdict {
    pub eligible: bool,
    pub score: u8,
    /// Firm-side rules met.
    pub met: RuleSet,
    /// Rules not met, product-side ones included.
    pub unmet: RuleSet,
    /// The unmet rules whose firm-side datum is missing (`actual: null`).
    pub unknown: RuleSet,
}

impl Verdict {
    /// Fails one or two firm-side rules of a product that is open: worth telling the firm.
    pub fn near_miss(&self) -> bool {
        self.unmet.bits() & PRODUCT_SIDE == 0 && matches!(self.unmet.len(), 1 | 2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Met { comfort: u8 },
    Unmet { progress: u8 },
    Unknown,
}

/// One rule for one firm and product: the single source of truth for both paths.
#[inline]
fn check(rule: RuleKind, f: &FirmFacts, p: &CompiledProduct) -> Check {
    fn flag(hit: bool) -> Check {
        if hit { Check::Met { comfort: 100 } } else { Check::Unmet { progress: 0 } }
    }
    match rule {
        RuleKind::Tiers => match f.tier {
            None => Check::Unknown,
            Some(t) => flag(p.tiers & tier_bit(t) != 0),
        },
        RuleKind::MinYearsInOperation => numeric(f.months, p.min_months),
        RuleKind::MinRevenue => numeric(f.revenue_fen, p.min_revenue_fen),
        RuleKind::MinRdRatio => numeric(f.rd_ppm, p.min_rd_ppm),
        RuleKind::MinInventionPatents => numeric(f.patents, p.min_patents),
        RuleKind::TaxCreditGrades => match f.grade {
            None => Check::Unknown,
            Some(g) => flag(p.grades & grade_bit(g) != 0),
        },
        RuleKind::Cities => flag(p.cities & city_bit(f.city) != 0),
        RuleKind::IndustryPrefixes => match f.industry {
            None => Check::Unknown,
            Some(code) => flag(p.prefixes.iter().any(|x| code & x.mask == x.value)),
        },
        RuleKind::ReservePoolOnly => flag(f.in_pool),
        RuleKind::LeadBankOnly => flag(f.lead_bank == Some(p.bank_id)),
        RuleKind::TargetVenues => {
            if f.venues == 0 {
                Check::Unknown
            } else {
                flag(p.venues & f.venues != 0)
            }
        }
        RuleKind::ProductActive => flag(p.active),
        RuleKind::ProductValidity => flag(within(f.on, p.valid_from, p.valid_to)),
    }
}

#[inline]
fn numeric(actual: Option<i64>, required: i64) -> Check {
    match actual {
        None => Check::Unknown,
        Some(a) if a >= required => Check::Met { comfort: comfort(a, required) },
        Some(a) => Check::Unmet { progress: if a <= 0 { 0 } else { percent(a, required) } },
    }
}

#[inline]
fn comfort(actual: i64, required: i64) -> u8 {
    if required <= 0 {
        return 100;
    }
    match actual.checked_sub(required) {
        Some(headroom) if headroom < required => percent(headroom, required),
        _ => 100,
    }
}

/// `floor(100 × n / d)` for `0 ≤ n < d`, so below 100; i128 only when ×100 would overflow.
#[inline]
fn percent(n: i64, d: i64) -> u8 {
    let p = match n.checked_mul(100) {
        Some(m) => i128::from(m / d),
        None => i128::from(n) * 100 / i128::from(d),
    };
    u8::try_from(p.clamp(0, 99)).unwrap_or(99)
}

const ELIGIBLE_FLOOR: u32 = 60;
const INELIGIBLE_CEILING: u32 = 59;

fn score(open: bool, n: u32, unmet: u32, comfort_sum: u32, progress_sum: u32) -> u8 {
    let s = if !open {
        0
    } else if n == 0 {
        100
    } else if unmet == 0 {
        ELIGIBLE_FLOOR + (100 - ELIGIBLE_FLOOR) * comfort_sum / (100 * n)
    } else {
        INELIGIBLE_CEILING * progress_sum / (100 * n)
    };
    u8::try_from(s).unwrap_or(100)
}

/// The hot path: no allocation, no decimal arithmetic.
pub fn evaluate(f: &FirmFacts, p: &CompiledProduct) -> Verdict {
    let mut met = RuleSet::EMPTY;
    let mut unmet = RuleSet::EMPTY;
    let mut unknown = RuleSet::EMPTY;
    let (mut comfort_sum, mut progress_sum) = (0u32, 0u32);
    let mut bits = p.rules.0;
    while bits != 0 {
        let i = bits.trailing_zeros();
        bits &= bits - 1;
        let Some(&rule) = RuleKind::ALL.get(i as usize) else {
            continue;
        };
        match check(rule, f, p) {
            Check::Met { comfort } => {
                met.insert(rule);
                comfort_sum += u32::from(comfort);
                progress_sum += 100;
            }
            Check::Unmet { progress } => {
                unmet.insert(rule);
                progress_sum += u32::from(progress);
            }
            Check::Unknown => {
                unmet.insert(rule);
                unknown.insert(rule);
            }
        }
    }
    let open = p.open_on(f.on);
    if !open {
        if !p.active {
            unmet.insert(RuleKind::ProductActive);
        }
        if !within(f.on, p.valid_from, p.valid_to) {
            unmet.insert(RuleKind::ProductValidity);
        }
    }
    let n = p.rules.len();
    Verdict {
        eligible: open && unmet.is_empty(),
        score: score(open, n, unmet.len(), comfort_sum, progress_sum),
        met,
        unmet,
        unknown,
    }
}

/// What it would take to meet a rule, for people.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct Advice {
    #[schema(example = "营业收入还需增加 2000000.00 元（当前 8000000.00 元，要求不低于 10000000.00 元）")]
    pub zh: String,
    #[schema(example = "Revenue must grow by 2000000.00 yuan (now 8000000.00, at least 10000000.00 required)")]
    pub en: String,
}

/// One rule's result. Numbers use the API's spelling: money in yuan with two decimals, the R&D
/// ratio as a fraction, years as whole years completed, lists as comma-separated wire names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct RuleResult {
    pub rule: RuleKind,
    /// The firm's value; `null` when unknown (or, for `tiers`/`target_venues`, none at all).
    #[schema(example = "8000000.00")]
    pub actual: Option<String>,
    #[schema(example = "10000000.00")]
    pub required: String,
    /// Cleared with room to spare: at least 50 % above a numeric minimum, or any pass of a
    /// list or yes/no rule. Always false for an unmet rule.
    pub comfortable: bool,
    /// What it would take; present on unmet rules only.
    pub advice: Option<Advice>,
}

/// A firm × product evaluation with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct MatchOutcome {
    pub eligible: bool,
    /// 0..=100; eligible firms score 60 or more, ineligible ones at most 58.
    #[schema(example = 82, minimum = 0, maximum = 100)]
    pub score: u8,
    pub met: Vec<RuleResult>,
    pub unmet: Vec<RuleResult>,
}

/// Which parts of an outcome changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutcomeChange {
    pub eligibility: bool,
    pub score: bool,
    /// Any rule result differs: partition, actual or required value, comfort or advice.
    pub reasons: bool,
}

impl OutcomeChange {
    pub fn any(self) -> bool {
        self.eligibility || self.score || self.reasons
    }
}

impl MatchOutcome {
    /// The verdict this outcome carries, equal to what [`evaluate`] returned for the same inputs.
    pub fn verdict(&self) -> Verdict {
        let mut v = Verdict { eligible: self.eligible, score: self.score, ..Verdict::default_empty() };
        for r in &self.met {
            v.met.insert(r.rule);
        }
        for r in &self.unmet {
            v.unmet.insert(r.rule);
            if r.actual.is_none() {
                v.unknown.insert(r.rule);
            }
        }
        v
    }

    pub fn change_from(&self, before: &MatchOutcome) -> OutcomeChange {
        OutcomeChange {
            eligibility: self.eligible != before.eligible,
            score: self.score != before.score,
            reasons: self.met != before.met || self.unmet != before.unmet,
        }
    }

    /// FNV-1a over everything the outcome shows, in a fixed order. Stable across processes and
    /// Rust releases (unlike `std`'s hasher), so it can be stored next to a materialised match.
    /// It changes when this module changes its wording, which is the point: the stored text is
    /// then out of date too.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fnv::new();
        h.bytes(&[u8::from(self.eligible), self.score]);
        for (tag, list) in [(b'm', &self.met), (b'u', &self.unmet)] {
            h.bytes(&[tag]);
            for r in list {
                h.text(r.rule.as_str());
                match &r.actual {
                    Some(a) => h.text(a),
                    None => h.bytes(&[0xff]),
                }
                h.text(&r.required);
                h.bytes(&[u8::from(r.comfortable)]);
                match &r.advice {
                    Some(a) => {
                        h.text(&a.zh);
                        h.text(&a.en);
                    }
                    None => h.bytes(&[0xff]),
                }
            }
        }
        h.0
    }
}

impl Verdict {
    const fn default_empty() -> Verdict {
        Verdict { eligible: false, score: 0, met: RuleSet::EMPTY, unmet: RuleSet::EMPTY, unknown: RuleSet::EMPTY }
    }
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, b: &[u8]) {
        for byte in b {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Length-prefixed, so ("ab","c") and ("a","bc") differ.
    fn text(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }
}

/// The first date after `f.on` on which this pair's outcome can change with no data change, or
/// `None` if time alone never changes it. Store it with the materialised match and re-evaluate
/// pairs whose date has come (a daily job). Candidates: the product opening (`valid_from`) or
/// closing (the day after `valid_to`), and the firm's next anniversary that moves the
/// years-in-operation rule — monthly while months still change the rule's progress or comfort
/// (below twice the minimum), yearly after that, when only the whole years shown change.
pub fn recheck_on(f: &FirmFacts, p: &CompiledProduct) -> Option<NaiveDate> {
    let years_rule = if p.rules.contains(RuleKind::MinYearsInOperation) {
        f.founded_on.zip(f.months).and_then(|(founded, m)| {
            let step = if m < p.min_months.saturating_mul(2) { m + 1 } else { (m.div_euclid(12) + 1) * 12 };
            founded.checked_add_months(Months::new(u32::try_from(step).ok()?))
        })
    } else {
        None
    };
    [p.valid_from, p.valid_to.and_then(|t| t.succ_opt()), years_rule].into_iter().flatten().filter(|d| *d > f.on).min()
}

/// Fails one or two firm-side rules of an open product.
pub fn near_miss(outcome: &MatchOutcome) -> bool {
    outcome.verdict().near_miss()
}

/// Evaluates and explains in one go from the plain views (compiles both; for one-off use).
pub fn outcome(firm: &MatchFirm, product: &MatchProduct, on: NaiveDate) -> MatchOutcome {
    explain(&FirmFacts::new(firm, on), &CompiledProduct::new(product))
}

/// The full outcome, with actual and required values and advice for each unmet rule.
pub fn explain(f: &FirmFacts, p: &CompiledProduct) -> MatchOutcome {
    let verdict = evaluate(f, p);
    let mut met = Vec::with_capacity(verdict.met.len() as usize);
    let mut unmet = Vec::with_capacity(verdict.unmet.len() as usize);
    for rule in p.rules.iter() {
        let c = check(rule, f, p);
        let result = RuleResult {
            rule,
            actual: actual(rule, f, p),
            required: required(rule, p),
            comfortable: matches!(c, Check::Met { comfort } if comfort >= 50),
            advice: if matches!(c, Check::Met { .. }) { None } else { Some(advice(rule, f, p)) },
        };
        if matches!(c, Check::Met { .. }) {
            met.push(result);
        } else {
            unmet.push(result);
        }
    }
    for rule in verdict.unmet.iter().filter(|r| r.is_product_side()) {
        unmet.push(RuleResult {
            rule,
            actual: actual(rule, f, p),
            required: required(rule, p),
            comfortable: false,
            advice: Some(advice(rule, f, p)),
        });
    }
    MatchOutcome { eligible: verdict.eligible, score: verdict.score, met, unmet }
}

fn tier_bit(t: Tier) -> u8 {
    1 << (t as u8)
}

fn grade_bit(g: TaxCreditGrade) -> u8 {
    1 << (g as u8)
}

fn venue_bit(v: Venue) -> u8 {
    1 << (v as u8)
}

fn city_bit(c: City) -> u16 {
    1 << (c as u16)
}

/// Firm figures round down and thresholds up, so imprecise data can only make a rule harder.
fn fen_floor(yuan: Decimal) -> i64 {
    to_i64(yuan.checked_mul(Decimal::ONE_HUNDRED).map(|d| d.floor()), yuan.is_sign_negative())
}

fn fen_ceil(yuan: Decimal) -> i64 {
    to_i64(yuan.checked_mul(Decimal::ONE_HUNDRED).map(|d| d.ceil()), yuan.is_sign_negative())
}

fn ppm_ceil(fraction: Decimal) -> i64 {
    to_i64(fraction.checked_mul(Decimal::from(1_000_000)).map(|d| d.ceil()), fraction.is_sign_negative())
}

fn to_i64(d: Option<Decimal>, negative: bool) -> i64 {
    d.and_then(|d| d.to_i64()).unwrap_or(if negative { i64::MIN } else { i64::MAX })
}

/// Whole months from `from` to `to`: the largest `m` with `from + m months ≤ to`, where chrono
/// clamps month ends (a firm founded on 02-29 has its anniversary on 02-28). A founding date
/// after `to` counts as zero.
fn full_months(from: NaiveDate, to: NaiveDate) -> i64 {
    if from >= to {
        return 0;
    }
    let guess = i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    let reached =
        |m: i64| u32::try_from(m).ok().and_then(|m| from.checked_add_months(Months::new(m))).is_some_and(|d| d <= to);
    if reached(guess) { guess } else { guess - 1 }
}

/// Trims and upper-cases; a bare division code (`3562`) gets its section letter (`C3562`).
fn normalise_industry(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    let b = code.as_bytes();
    if let [d1, d2, ..] = b
        && b.len() <= 4
        && b.iter().all(u8::is_ascii_digit)
    {
        let division = (d1 - b'0') * 10 + (d2 - b'0');
        return industry_section(division).map(|s| format!("{s}{code}"));
    }
    (!code.is_empty()).then_some(code)
}

fn pack(code: &str) -> Option<u64> {
    let b = code.as_bytes();
    if b.is_empty() || b.len() > 8 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(b.iter().enumerate().fold(0u64, |acc, (i, byte)| acc | u64::from(*byte) << (56 - 8 * i)))
}

fn unpack(value: u64) -> String {
    value.to_be_bytes().iter().take_while(|b| **b != 0).map(|b| char::from(*b)).collect()
}

#[cfg(test)]
mod tests;
