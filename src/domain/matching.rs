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

use crate::domain::firm::{City, FinancialYear, Firm, TaxCreditGrade, Tier, Venue, vocabulary};
use crate::domain::product::{Eligibility, LoanProduct, industry_section, within};

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
    pub id: Uuid,
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
    pub firm_id: Uuid,
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

fn actual(rule: RuleKind, f: &FirmFacts, p: &CompiledProduct) -> Option<String> {
    match rule {
        RuleKind::Tiers => f.tier.map(|t| t.as_str().to_owned()),
        RuleKind::MinYearsInOperation => f.months.map(|m| m.div_euclid(12).to_string()),
        RuleKind::MinRevenue => f.revenue_fen.map(yuan),
        RuleKind::MinRdRatio => f.rd_ppm.map(ratio),
        RuleKind::MinInventionPatents => f.patents.map(|p| p.to_string()),
        RuleKind::TaxCreditGrades => f.grade.map(|g| g.as_str().to_owned()),
        RuleKind::Cities => Some(f.city.as_str().to_owned()),
        RuleKind::IndustryPrefixes => f.industry.map(unpack),
        RuleKind::ReservePoolOnly => Some(f.in_pool.to_string()),
        // Whether *this* bank is the lead bank, never the lead bank's id: bank A must not learn
        // that bank B is the firm's 主办行.
        RuleKind::LeadBankOnly => Some((f.lead_bank == Some(p.bank_id)).to_string()),
        RuleKind::TargetVenues => (f.venues != 0).then(|| names(Venue::ALL, f.venues.into(), |v| venue_bit(v).into())),
        RuleKind::ProductActive => Some(p.active.to_string()),
        // Not the date itself, which would change the stored explanation every day.
        RuleKind::ProductValidity => Some(
            if p.valid_from.is_some_and(|from| f.on < from) {
                "not_started"
            } else if p.valid_to.is_some_and(|to| f.on > to) {
                "ended"
            } else {
                "open"
            }
            .to_owned(),
        ),
    }
}

fn required(rule: RuleKind, p: &CompiledProduct) -> String {
    match rule {
        RuleKind::Tiers => names(Tier::ALL, p.tiers.into(), |t| tier_bit(t).into()),
        RuleKind::MinYearsInOperation => (p.min_months / 12).to_string(),
        RuleKind::MinRevenue => yuan(p.min_revenue_fen),
        RuleKind::MinRdRatio => ratio(p.min_rd_ppm),
        RuleKind::MinInventionPatents => p.min_patents.to_string(),
        RuleKind::TaxCreditGrades => names(TaxCreditGrade::ALL, p.grades.into(), |g| grade_bit(g).into()),
        RuleKind::Cities => names(City::ALL, p.cities, city_bit),
        RuleKind::IndustryPrefixes => p.prefixes.iter().map(|x| unpack(x.value)).collect::<Vec<_>>().join(","),
        RuleKind::ReservePoolOnly | RuleKind::LeadBankOnly | RuleKind::ProductActive => "true".to_owned(),
        RuleKind::TargetVenues => names(Venue::ALL, p.venues.into(), |v| venue_bit(v).into()),
        RuleKind::ProductValidity => {
            let d = |x: Option<NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
            format!("{}..{}", d(p.valid_from), d(p.valid_to))
        }
    }
}

fn advice(rule: RuleKind, f: &FirmFacts, p: &CompiledProduct) -> Advice {
    let a = |zh: String, en: String| Advice { zh, en };
    match rule {
        RuleKind::Tiers => {
            let zh = labels(Tier::ALL, p.tiers.into(), |t| tier_bit(t).into(), |t| t.label_zh());
            let en = names(Tier::ALL, p.tiers.into(), |t| tier_bit(t).into()).replace(',', " or ");
            match f.tier {
                None => a(format!("需获评{zh}"), format!("Be recognised as {en}; the firm holds no tier yet")),
                Some(t) => a(
                    format!("需获评{zh}（当前为{}）", t.label_zh()),
                    format!("Be recognised as {en} (now {})", t.as_str()),
                ),
            }
        }
        RuleKind::MinYearsInOperation => {
            let years = p.min_months / 12;
            let when =
                f.founded_on.and_then(|d| d.checked_add_months(Months::new(u32::try_from(p.min_months).unwrap_or(0))));
            match when {
                None => a(
                    format!("请补充企业成立日期（要求成立满 {years} 年）"),
                    format!("Record the founding date (at least {years} years in operation required)"),
                ),
                Some(date) => a(
                    format!("成立满 {years} 年后可申请，即 {date} 起"),
                    format!("Eligible once {years} years in operation, from {date}"),
                ),
            }
        }
        RuleKind::MinRevenue => {
            let need = yuan(p.min_revenue_fen);
            match f.revenue_fen {
                None => a(
                    format!("请补充最近一个财年的营业收入（要求不低于 {need} 元）"),
                    format!("Report revenue for the latest fiscal year (at least {need} yuan required)"),
                ),
                Some(r) => {
                    let gap = yuan(p.min_revenue_fen.saturating_sub(r));
                    let now = yuan(r);
                    a(
                        format!("营业收入还需增加 {gap} 元（当前 {now} 元，要求不低于 {need} 元）"),
                        format!("Revenue must grow by {gap} yuan (now {now}, at least {need} required)"),
                    )
                }
            }
        }
        RuleKind::MinRdRatio => {
            let need = percent_text(p.min_rd_ppm);
            match (f.rd_ppm, f.rd_fen, f.revenue_fen) {
                (Some(ppm), Some(rd), Some(rev)) => {
                    // The R&D expense that would reach the ratio at today's revenue, rounded up to the fen.
                    let target = (i128::from(p.min_rd_ppm) * i128::from(rev) + 999_999).div_euclid(1_000_000);
                    let gap = i64::try_from(target - i128::from(rd)).unwrap_or(i64::MAX).max(0);
                    let (now, gap) = (percent_text(ppm), yuan(gap));
                    a(
                        format!(
                            "研发投入占营业收入比例需达到 {need}（当前 {now}），按当前营收需再增加研发费用 {gap} 元"
                        ),
                        format!(
                            "R&D must reach {need} of revenue (now {now}): {gap} yuan more R&D expense at current revenue"
                        ),
                    )
                }
                _ => a(
                    format!("请补充最近一个财年的营业收入（需大于零）和研发费用（要求研发占比不低于 {need}）"),
                    format!(
                        "Report latest fiscal-year revenue (above zero) and R&D expense (an R&D ratio of at least {need} is required)"
                    ),
                ),
            }
        }
        RuleKind::MinInventionPatents => {
            let need = p.min_patents;
            match f.patents {
                None => a(
                    format!("请补充已授权发明专利数量（要求不少于 {need} 件）"),
                    format!("Report the number of granted invention patents (at least {need} required)"),
                ),
                Some(have) => {
                    let gap = need.saturating_sub(have);
                    a(
                        format!("还需 {gap} 件已授权发明专利（当前 {have} 件，要求不少于 {need} 件）"),
                        format!("{gap} more granted invention patent(s) needed (now {have}, at least {need} required)"),
                    )
                }
            }
        }
        RuleKind::TaxCreditGrades => {
            let need = names(TaxCreditGrade::ALL, p.grades.into(), |g| grade_bit(g).into());
            let zh_need = need.replace(',', "、");
            let en_need = need.replace(',', ", ");
            match f.grade {
                None => a(
                    format!("请补充纳税信用等级（要求为 {zh_need} 级之一）"),
                    format!("Record the tax credit grade (one of {en_need} required)"),
                ),
                Some(g) => a(
                    format!("纳税信用等级需为 {zh_need} 级之一（当前 {} 级）", g.as_str()),
                    format!("Tax credit grade must be one of {en_need} (now {})", g.as_str()),
                ),
            }
        }
        RuleKind::Cities => a(
            format!("本产品仅面向{}的企业", labels(City::ALL, p.cities, city_bit, |c| c.label_zh())),
            format!("Only for firms in {}", names(City::ALL, p.cities, city_bit).replace(',', ", ")),
        ),
        RuleKind::IndustryPrefixes => {
            let need = required(rule, p);
            let zh_need = need.replace(',', "、");
            let en_need = need.replace(',', ", ");
            match f.industry {
                None => a(
                    format!("请补充所属行业代码（GB/T 4754，本产品面向 {zh_need} 开头的行业）"),
                    format!("Record the industry code (GB/T 4754; the product is for codes starting with {en_need})"),
                ),
                Some(code) => {
                    let now = unpack(code);
                    a(
                        format!("本产品仅面向行业代码以 {zh_need} 开头的企业（当前 {now}）"),
                        format!("Only for industry codes starting with {en_need} (now {now})"),
                    )
                }
            }
        }
        RuleKind::ReservePoolOnly => {
            a("需先纳入上市后备资源库".to_owned(), "Be admitted to the listing reserve pool first".to_owned())
        }
        RuleKind::LeadBankOnly => a(
            "本产品仅面向以本行为主办行的企业，可申请将本行确定为主办行".to_owned(),
            "Only for firms whose lead bank (主办行) is this bank; the firm may designate it as lead bank".to_owned(),
        ),
        RuleKind::TargetVenues => {
            let zh = labels(Venue::ALL, p.venues.into(), |v| venue_bit(v).into(), |v| v.label_zh());
            let en = names(Venue::ALL, p.venues.into(), |v| venue_bit(v).into()).replace(',', ", ");
            a(
                format!("需以{zh}为上市目标并登记上市进程"),
                format!("Target one of these venues and record the listing progress: {en}"),
            )
        }
        RuleKind::ProductActive => {
            a("该产品已下架，暂不受理".to_owned(), "The product has been withdrawn by the bank".to_owned())
        }
        RuleKind::ProductValidity => {
            let window = required(rule, p);
            a(
                format!("该产品不在有效期内（有效期 {window}）"),
                format!("The product is outside its validity window ({window})"),
            )
        }
    }
}

fn names<T: Copy + std::fmt::Display>(all: &[T], mask: u16, bit: impl Fn(T) -> u16) -> String {
    all.iter().filter(|x| mask & bit(**x) != 0).map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

fn labels<T: Copy>(all: &[T], mask: u16, bit: impl Fn(T) -> u16, label: impl Fn(T) -> &'static str) -> String {
    all.iter().filter(|x| mask & bit(**x) != 0).map(|x| label(*x)).collect::<Vec<_>>().join("、")
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

fn yuan(fen: i64) -> String {
    Decimal::new(fen, 2).to_string()
}

fn ratio(ppm: i64) -> String {
    Decimal::new(ppm, 6).normalize().to_string()
}

fn percent_text(ppm: i64) -> String {
    format!("{}%", Decimal::new(ppm, 4).normalize())
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
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal literal")
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date literal")
    }

    const ON: &str = "2025-06-30";

    fn bank() -> Uuid {
        Uuid::from_u128(0xb1)
    }

    /// A firm that meets every rule of `strict()` with some headroom.
    fn firm() -> MatchFirm {
        MatchFirm {
            id: Uuid::from_u128(0xf1),
            city: City::Jinan,
            industry_code: "C3562".into(),
            tier: Some(Tier::ProvincialSrdi),
            founded_on: Some(date("2020-03-15")),
            tax_credit_grade: Some(TaxCreditGrade::A),
            lead_bank_id: Some(bank()),
            in_reserve_pool: true,
            target_venues: vec![Venue::Bse],
            fiscal_year: Some(2024),
            revenue: Some(d("15000000.00")),
            rd_expense: Some(d("600000.00")),
            invention_patents: Some(3),
        }
    }

    fn product(e: Eligibility) -> MatchProduct {
        MatchProduct {
            id: Uuid::from_u128(0x91),
            bank_id: bank(),
            eligibility: e,
            valid_from: None,
            valid_to: None,
            active: true,
        }
    }

    fn strict() -> Eligibility {
        Eligibility {
            tiers: vec![Tier::ProvincialSrdi],
            min_years_in_operation: Some(3),
            min_revenue: Some(d("10000000.00")),
            min_rd_ratio: Some(d("0.03")),
            min_invention_patents: Some(2),
            tax_credit_grades: vec![TaxCreditGrade::A, TaxCreditGrade::B],
            cities: vec![City::Jinan, City::Qingdao],
            industry_prefixes: vec!["C35".into(), "I65".into()],
            reserve_pool_only: true,
            lead_bank_only: true,
            target_venues: vec![Venue::Bse, Venue::Star],
        }
    }

    fn run(f: &MatchFirm, p: &MatchProduct) -> MatchOutcome {
        let facts = FirmFacts::new(f, date(ON));
        let compiled = CompiledProduct::new(p);
        let out = explain(&facts, &compiled);
        // Both paths must agree, always.
        assert_eq!(out.verdict(), evaluate(&facts, &compiled), "fast path and explanation disagree");
        out
    }

    fn unmet_rules(o: &MatchOutcome) -> Vec<RuleKind> {
        o.unmet.iter().map(|r| r.rule).collect()
    }

    #[test]
    fn a_firm_meeting_everything_is_eligible() {
        let o = run(&firm(), &product(strict()));
        assert!(o.eligible, "{o:#?}");
        assert!(o.unmet.is_empty());
        assert_eq!(o.met.len(), 11);
        assert!(o.score >= 60);
        let rev = o.met.iter().find(|r| r.rule == RuleKind::MinRevenue).expect("revenue rule");
        assert_eq!(rev.actual.as_deref(), Some("15000000.00"));
        assert_eq!(rev.required, "10000000.00");
        assert!(rev.comfortable);
        let rd = o.met.iter().find(|r| r.rule == RuleKind::MinRdRatio).expect("rd rule");
        assert_eq!((rd.actual.as_deref(), rd.required.as_str(), rd.comfortable), (Some("0.04"), "0.03", false));
        let tiers = o.met.iter().find(|r| r.rule == RuleKind::Tiers).expect("tier rule");
        assert_eq!(tiers.required, "provincial_srdi,little_giant");
    }

    /// Each numeric rule just below, at and just above its threshold.
    #[test]
    fn numeric_boundaries() {
        type Edit = fn(&mut MatchFirm, &str);
        let cases: &[(RuleKind, Edit, &str, &str, &str)] = &[
            (RuleKind::MinRevenue, |f, v| f.revenue = Some(d(v)), "9999999.99", "10000000.00", "10000000.01"),
            // 3 % of 15,000,000 = 450,000.00
            (RuleKind::MinRdRatio, |f, v| f.rd_expense = Some(d(v)), "449999.99", "450000.00", "450000.01"),
            (RuleKind::MinInventionPatents, |f, v| f.invention_patents = Some(v.parse().expect("int")), "1", "2", "3"),
            // three full years before 2025-06-30
            (
                RuleKind::MinYearsInOperation,
                |f, v| f.founded_on = Some(date(v)),
                "2022-07-01",
                "2022-06-30",
                "2022-06-29",
            ),
        ];
        for (rule, edit, below, at, above) in cases {
            for (value, expect_met) in [(below, false), (at, true), (above, true)] {
                let mut f = firm();
                edit(&mut f, value);
                let o = run(&f, &product(strict()));
                assert_eq!(o.eligible, expect_met, "{rule} at {value}: {o:#?}");
                assert_eq!(unmet_rules(&o), if expect_met { vec![] } else { vec![*rule] }, "{rule} at {value}");
                if !expect_met {
                    let r = &o.unmet[0];
                    assert!(r.actual.is_some() && r.advice.is_some(), "{rule}: {r:?}");
                    assert!(o.score < 60);
                }
            }
        }
    }

    #[test]
    fn anniversaries_clamp_like_chrono() {
        let e = Eligibility { min_years_in_operation: Some(1), ..Eligibility::default() };
        let mut f = firm();
        f.founded_on = Some(date("2024-02-29"));
        for (on, eligible) in [("2025-02-27", false), ("2025-02-28", true), ("2025-03-01", true)] {
            let o = explain(&FirmFacts::new(&f, date(on)), &CompiledProduct::new(&product(e.clone())));
            assert_eq!(o.eligible, eligible, "{on}");
        }
        // Month ends clamp: a month after 01-31 is 02-28.
        assert_eq!(full_months(date("2025-01-31"), date("2025-02-27")), 0);
        assert_eq!(full_months(date("2025-01-31"), date("2025-02-28")), 1);
        assert_eq!(full_months(date("2025-01-31"), date("2025-03-31")), 2);
        assert_eq!(full_months(date("2026-01-01"), date("2025-01-01")), 0);
    }

    #[test]
    fn list_rules_pass_and_fail() {
        type Edit = fn(&mut MatchFirm);
        let cases: &[(&str, Edit, Option<RuleKind>)] = &[
            ("little giant clears a provincial rule (ladder)", |f| f.tier = Some(Tier::LittleGiant), None),
            ("innovative SME is below the ladder", |f| f.tier = Some(Tier::InnovativeSme), Some(RuleKind::Tiers)),
            ("grade B is listed", |f| f.tax_credit_grade = Some(TaxCreditGrade::B), None),
            (
                "grade M is not listed",
                |f| f.tax_credit_grade = Some(TaxCreditGrade::M),
                Some(RuleKind::TaxCreditGrades),
            ),
            ("Qingdao is listed", |f| f.city = City::Qingdao, None),
            ("Heze is not listed", |f| f.city = City::Heze, Some(RuleKind::Cities)),
            ("I6510 under I65", |f| f.industry_code = "I6510".into(), None),
            ("bare division gets its section", |f| f.industry_code = "3562".into(), None),
            ("lower case is fine", |f| f.industry_code = " c3562 ".into(), None),
            ("C36 is not C35", |f| f.industry_code = "C3611".into(), Some(RuleKind::IndustryPrefixes)),
            ("C3 is shorter than the prefix", |f| f.industry_code = "C3".into(), Some(RuleKind::IndustryPrefixes)),
            ("not in pool", |f| f.in_reserve_pool = false, Some(RuleKind::ReservePoolOnly)),
            ("another lead bank", |f| f.lead_bank_id = Some(Uuid::from_u128(0xb2)), Some(RuleKind::LeadBankOnly)),
            ("no lead bank", |f| f.lead_bank_id = None, Some(RuleKind::LeadBankOnly)),
            ("targets STAR too", |f| f.target_venues = vec![Venue::Neeq, Venue::Star], None),
            ("targets only NEEQ", |f| f.target_venues = vec![Venue::Neeq], Some(RuleKind::TargetVenues)),
        ];
        for (what, edit, fails) in cases {
            let mut f = firm();
            edit(&mut f);
            let o = run(&f, &product(strict()));
            assert_eq!(unmet_rules(&o), fails.iter().copied().collect::<Vec<_>>(), "{what}");
            assert_eq!(o.eligible, fails.is_none(), "{what}");
            if fails.is_some() {
                assert!(o.unmet[0].advice.is_some(), "{what}");
            }
        }
    }

    #[test]
    fn missing_data_is_unmet_with_a_null_actual() {
        type Edit = fn(&mut MatchFirm);
        let cases: &[(Edit, &[RuleKind])] = &[
            (|f| f.tier = None, &[RuleKind::Tiers]),
            (|f| f.founded_on = None, &[RuleKind::MinYearsInOperation]),
            (|f| f.revenue = None, &[RuleKind::MinRevenue, RuleKind::MinRdRatio]),
            (|f| f.revenue = Some(Decimal::ZERO), &[RuleKind::MinRevenue, RuleKind::MinRdRatio]),
            (|f| f.rd_expense = None, &[RuleKind::MinRdRatio]),
            (|f| f.invention_patents = None, &[RuleKind::MinInventionPatents]),
            (|f| f.tax_credit_grade = None, &[RuleKind::TaxCreditGrades]),
            (|f| f.industry_code = "  ".into(), &[RuleKind::IndustryPrefixes]),
            (|f| f.target_venues.clear(), &[RuleKind::TargetVenues]),
        ];
        for (edit, rules) in cases {
            let mut f = firm();
            edit(&mut f);
            let o = run(&f, &product(strict()));
            assert_eq!(unmet_rules(&o), rules.to_vec());
            assert!(!o.eligible);
            let v = o.verdict();
            // Zero revenue is known: the revenue rule fails with an actual, only the ratio is unknown.
            let unknown: Vec<RuleKind> = v.unknown.iter().collect();
            let expect_unknown: Vec<RuleKind> = o.unmet.iter().filter(|r| r.actual.is_none()).map(|r| r.rule).collect();
            assert_eq!(unknown, expect_unknown);
            assert!(o.unmet.iter().all(|r| r.advice.is_some()));
        }
        let mut f = firm();
        f.revenue = None;
        let o = run(&f, &product(strict()));
        assert!(o.unmet.iter().all(|r| r.actual.is_none()));
        let adv = o.unmet[0].advice.as_ref().expect("advice");
        assert!(adv.zh.contains("请补充") && adv.en.starts_with("Report revenue"), "{adv:?}");
    }

    #[test]
    fn unconstrained_rules_ignore_missing_data() {
        let f = MatchFirm {
            tier: None,
            founded_on: None,
            tax_credit_grade: None,
            lead_bank_id: None,
            in_reserve_pool: false,
            target_venues: vec![],
            fiscal_year: None,
            revenue: None,
            rd_expense: None,
            invention_patents: None,
            industry_code: String::new(),
            ..firm()
        };
        let o = run(&f, &product(Eligibility::default()));
        assert!(o.eligible);
        assert_eq!(o.score, 100);
        assert!(o.met.is_empty() && o.unmet.is_empty());
    }

    #[test]
    fn validity_window_and_withdrawal() {
        let mut p = product(strict());
        p.valid_from = Some(date("2025-01-01"));
        p.valid_to = Some(date(ON));
        assert!(run(&firm(), &p).eligible, "last day is inside");
        p.valid_to = Some(date("2025-06-29"));
        let o = run(&firm(), &p);
        assert!(!o.eligible);
        assert_eq!(o.score, 0);
        assert_eq!(unmet_rules(&o), [RuleKind::ProductValidity]);
        assert_eq!(o.unmet[0].required, "2025-01-01..2025-06-29");
        assert_eq!(o.unmet[0].actual.as_deref(), Some("ended"));
        assert!(!near_miss(&o), "an expired product is no near miss");
        p.valid_to = None;
        p.valid_from = Some(date("2025-07-01"));
        let o = run(&firm(), &p);
        assert_eq!(unmet_rules(&o), [RuleKind::ProductValidity]);
        assert_eq!(o.unmet[0].actual.as_deref(), Some("not_started"));
        p.valid_from = None;
        p.active = false;
        let o = run(&firm(), &p);
        assert_eq!(unmet_rules(&o), [RuleKind::ProductActive]);
        assert_eq!(o.unmet[0].actual.as_deref(), Some("false"));
        assert_eq!((o.eligible, o.score), (false, 0));
    }

    /// Between `on` and `recheck_on` nothing shown changes; on `recheck_on` something may.
    #[test]
    fn recheck_dates() {
        // (founded_on, valid_from, valid_to, expected recheck date)
        type Case = (&'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>);
        let cases: &[Case] = &[
            // founded 2020-03-15: 63 months on 2025-06-30, below 2 × 36, so monthly
            ("2020-03-15", None, None, Some("2025-07-15")),
            ("2020-03-15", None, Some("2025-07-10"), Some("2025-07-11")),
            ("2020-03-15", Some("2025-07-01"), None, Some("2025-07-01")),
            // 125 months, beyond 2 × 36: the next whole year (11 years on 2026-01-15)
            ("2015-01-15", None, None, Some("2026-01-15")),
            // not yet 3 years: monthly
            ("2023-01-10", None, None, Some("2025-07-10")),
        ];
        for (founded, from, to, want) in cases {
            let mut f = firm();
            f.founded_on = Some(date(founded));
            let mut p = product(strict());
            p.valid_from = from.map(date);
            p.valid_to = to.map(date);
            let compiled = CompiledProduct::new(&p);
            let start = FirmFacts::new(&f, date(ON));
            let next = recheck_on(&start, &compiled);
            assert_eq!(next, want.map(date), "{founded} {from:?} {to:?}");
            let before = explain(&start, &compiled);
            let mut day = date(ON);
            while let Some(d) = day.succ_opt().filter(|d| Some(*d) < next) {
                day = d;
                assert_eq!(explain(&FirmFacts::new(&f, day), &compiled), before, "changed on {day}");
            }
        }
        let mut f = firm();
        f.founded_on = None;
        assert_eq!(recheck_on(&FirmFacts::new(&f, date(ON)), &CompiledProduct::new(&product(strict()))), None);
        let never = product(Eligibility { min_revenue: Some(d("1")), ..Eligibility::default() });
        assert_eq!(recheck_on(&FirmFacts::new(&firm(), date(ON)), &CompiledProduct::new(&never)), None);
    }

    #[test]
    fn near_misses() {
        let mut f = firm();
        f.in_reserve_pool = false;
        assert!(near_miss(&run(&f, &product(strict()))));
        f.city = City::Heze;
        assert!(near_miss(&run(&f, &product(strict()))));
        f.tier = None;
        assert!(!near_miss(&run(&f, &product(strict()))));
        assert!(!near_miss(&run(&firm(), &product(strict()))), "eligible is no miss");
    }

    #[test]
    fn score_rises_with_headroom() {
        let e =
            Eligibility { min_revenue: Some(d("10000000")), min_invention_patents: Some(2), ..Eligibility::default() };
        let mut last = 0u8;
        let mut seen = vec![];
        for revenue in
            [0, 1_000_000, 5_000_000, 9_999_999, 10_000_000, 12_000_000, 15_000_000, 19_999_999, 20_000_000, 50_000_000]
        {
            let mut f = firm();
            f.revenue = Some(Decimal::from(revenue));
            let o = run(&f, &product(e.clone()));
            assert!(o.score >= last, "score fell at revenue {revenue}: {} < {last}", o.score);
            assert_eq!(o.eligible, revenue >= 10_000_000);
            assert!(if o.eligible { o.score >= 60 } else { o.score <= 58 }, "{revenue}: {}", o.score);
            last = o.score;
            seen.push(o.score);
        }
        // Patents: 3 against 2 is 50 % headroom (comfort 50). Revenue 15M is 50 % too:
        // 60 + 40 × (50 + 50) / 200 = 80. Below 10M: 59 × (progress + 100) / 200.
        assert_eq!(seen, [29, 32, 44, 58, 70, 74, 80, 89, 90, 90]);
    }

    #[test]
    fn ineligible_scores_count_failures() {
        // 11 rules; failing more of them never scores higher.
        let mut f = firm();
        let mut last = 100u8;
        let edits: [fn(&mut MatchFirm); 4] = [
            |f| f.in_reserve_pool = false,
            |f| f.city = City::Heze,
            |f| f.tier = None,
            |f| f.tax_credit_grade = Some(TaxCreditGrade::D),
        ];
        for edit in edits {
            edit(&mut f);
            let s = run(&f, &product(strict())).score;
            assert!(s < last, "{s} !< {last}");
            last = s;
        }
    }

    #[test]
    fn huge_figures_do_not_overflow() {
        let e = Eligibility {
            min_revenue: Some(d("900000000000000")),
            min_rd_ratio: Some(d("0.000001")),
            ..Eligibility::default()
        };
        let mut f = firm();
        f.revenue = Some(d("1000000000000000"));
        f.rd_expense = Some(d("79228162514264337593543950335"));
        let o = run(&f, &product(e.clone()));
        assert!(o.eligible);
        f.revenue = Some(d("-5"));
        let o = run(&f, &product(e));
        assert!(!o.eligible);
    }

    #[test]
    fn advice_texts() {
        let mut f = firm();
        f.revenue = Some(d("8000000"));
        f.rd_expense = Some(d("200000"));
        f.founded_on = Some(date("2023-01-10"));
        f.invention_patents = Some(0);
        f.tax_credit_grade = Some(TaxCreditGrade::C);
        let o = run(&f, &product(strict()));
        let adv =
            |rule: RuleKind| o.unmet.iter().find(|r| r.rule == rule).and_then(|r| r.advice.clone()).expect("advice");
        assert_eq!(
            adv(RuleKind::MinRevenue).en,
            "Revenue must grow by 2000000.00 yuan (now 8000000.00, at least 10000000.00 required)"
        );
        assert_eq!(adv(RuleKind::MinYearsInOperation).zh, "成立满 3 年后可申请，即 2026-01-10 起");
        assert_eq!(
            adv(RuleKind::MinRdRatio).en,
            "R&D must reach 3% of revenue (now 2.5%): 40000.00 yuan more R&D expense at current revenue"
        );
        assert_eq!(adv(RuleKind::MinInventionPatents).zh, "还需 2 件已授权发明专利（当前 0 件，要求不少于 2 件）");
        assert_eq!(adv(RuleKind::TaxCreditGrades).en, "Tax credit grade must be one of A, B (now C)");
        let mut f = firm();
        f.tier = None;
        let o = run(&f, &product(strict()));
        assert_eq!(
            o.unmet[0].advice.as_ref().map(|a| a.zh.as_str()),
            Some("需获评省级专精特新中小企业、国家级专精特新\"小巨人\"企业")
        );
    }

    #[test]
    fn outcome_comparison() {
        let p = product(strict());
        let a = run(&firm(), &p);
        let same = run(&firm(), &p);
        assert_eq!(a.fingerprint(), same.fingerprint());
        assert!(!a.change_from(&same).any());

        let mut f = firm();
        f.revenue = Some(d("15000001.00"));
        let b = run(&f, &p);
        let c = b.change_from(&a);
        assert_eq!((c.eligibility, c.score, c.reasons), (false, false, true), "same score, new actual value");
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.verdict(), b.verdict(), "verdicts ignore displayed values");

        f.in_reserve_pool = false;
        let c = run(&f, &p).change_from(&a);
        assert!(c.eligibility && c.score && c.reasons);
    }

    #[test]
    fn serialised_outcome_shape() {
        let mut f = firm();
        f.revenue = None;
        let o = run(&f, &product(Eligibility { min_revenue: Some(d("1")), ..Eligibility::default() }));
        let json = serde_json::to_value(&o).expect("serialises");
        assert_eq!(json["unmet"][0]["rule"], "min_revenue");
        assert_eq!(json["unmet"][0]["actual"], serde_json::Value::Null);
        assert_eq!(json["unmet"][0]["required"], "1.00");
        let back: MatchOutcome = serde_json::from_value(json).expect("round trip");
        assert_eq!(back, o);
    }

    #[test]
    fn rule_set_bits_are_stable() {
        assert_eq!(RuleKind::Tiers.bit(), 1);
        assert_eq!(RuleKind::TargetVenues.bit(), 1 << 10);
        assert_eq!(RuleKind::ProductValidity.bit(), 1 << 12);
        assert_eq!(RuleSet::from_bits(0xffff).len(), 13);
        assert_eq!(RuleSet::from_bits(0xffff).firm_side().len(), 11);
    }

    #[test]
    fn the_latest_fiscal_year_counts() {
        let years = [
            FinancialYear { fiscal_year: 2024, revenue: None, invention_patents: Some(5), ..FinancialYear::default() },
            FinancialYear { fiscal_year: 2025, revenue: Some(d("1")), ..FinancialYear::default() },
            FinancialYear { fiscal_year: 2023, revenue: Some(d("2")), ..FinancialYear::default() },
        ];
        assert_eq!(latest_year(&years).map(|y| y.fiscal_year), Some(2025));
        assert_eq!(latest_year(&[]), None);
    }

    /// Every pair of a deterministic synthetic population: the two paths agree and scores stay
    /// in their bands.
    #[test]
    fn fast_path_agrees_with_explanations_on_a_population() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let on = date(ON);
        let pick = |i: u64| i as usize;
        let products: Vec<CompiledProduct> = (0..40)
            .map(|i| {
                let mut e = Eligibility::default();
                if next(2) == 0 {
                    e.tiers = vec![Tier::ALL[pick(next(3))]];
                }
                if next(2) == 0 {
                    e.min_revenue = Some(Decimal::from(next(50_000_000)));
                }
                if next(2) == 0 {
                    e.min_rd_ratio = Some(Decimal::new(next(80_000) as i64, 6));
                }
                if next(3) == 0 {
                    e.min_years_in_operation = Some(next(6) as i32);
                }
                if next(3) == 0 {
                    e.industry_prefixes = vec!["C".into(), "I65".into()];
                }
                e.reserve_pool_only = next(5) == 0;
                e.lead_bank_only = next(7) == 0;
                CompiledProduct::new(&MatchProduct {
                    id: Uuid::from_u128(i),
                    bank_id: Uuid::from_u128(1000 + u128::from(next(3) as u8)),
                    eligibility: e,
                    valid_from: None,
                    valid_to: (next(10) == 0).then(|| date("2025-01-01")),
                    active: next(20) != 0,
                })
            })
            .collect();
        for i in 0..200u128 {
            let f = MatchFirm {
                id: Uuid::from_u128(i),
                tier: Tier::ALL.get(pick(next(4))).copied(),
                revenue: (next(10) != 0).then(|| Decimal::from(next(60_000_000))),
                rd_expense: (next(10) != 0).then(|| Decimal::from(next(3_000_000))),
                in_reserve_pool: next(2) == 0,
                lead_bank_id: Some(Uuid::from_u128(1000 + u128::from(next(3) as u8))),
                industry_code: ["C3562", "I6510", "F5123"][pick(next(3))].into(),
                ..firm()
            };
            let facts = FirmFacts::new(&f, on);
            for p in &products {
                let v = evaluate(&facts, p);
                let o = explain(&facts, p);
                assert_eq!(o.verdict(), v);
                assert!(if v.eligible { v.score >= 60 } else { v.score <= 58 }, "{v:?}");
            }
        }
    }
}
