//! The hot path: one rule checked for one firm and product (`check`, shared with the
//! explanation), the score, the allocation-free [`Verdict`], and the date a pair must be looked
//! at again.

use chrono::{Months, NaiveDate};

use super::encoding::{city_bit, grade_bit, tier_bit};
use super::rules::{PRODUCT_SIDE, RuleKind, RuleSet};
use super::{CompiledProduct, FirmFacts};
use crate::domain::product::within;

/// The allocation-free result of [`evaluate`]. Equal verdicts mean equal eligibility, score and
/// rule partition; the displayed actual values may still differ (see
/// [`MatchOutcome::fingerprint`](super::MatchOutcome::fingerprint)).
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
pub(super) enum Check {
    Met { comfort: u8 },
    Unmet { progress: u8 },
    Unknown,
}

/// One rule for one firm and product: the single source of truth for both paths.
#[inline]
pub(super) fn check(rule: RuleKind, f: &FirmFacts, p: &CompiledProduct) -> Check {
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
