//! How close a variant or standard is to being met, to pick the best variant and the closest
//! standard.

use rust_decimal::Decimal;

use crate::domain::readiness::{CriterionResult, VariantResult, Verdict};

/// Ordering key of a variant or standard: fewest criteria not yet met (not met or unknown),
/// then the smallest summed relative shortfall (shortfall ÷ |threshold|, capped at 1; an unknown
/// criterion or a miss without a numeric shortfall counts as 1), then fewest outright misses.
/// Counting unknowns as full misses keeps an unasserted qualitative route from looking closer
/// than a numeric near miss.
pub(crate) fn criteria_rank(criteria: &[CriterionResult]) -> (usize, Decimal, usize) {
    let mut unmet = 0;
    let mut not_met = 0;
    let mut rel = Decimal::ZERO;
    for c in criteria {
        let r = match c.verdict {
            Verdict::Met => continue,
            Verdict::Unknown => Decimal::ONE,
            Verdict::NotMet => {
                not_met += 1;
                relative_shortfall(c)
            }
        };
        unmet += 1;
        rel = rel.checked_add(r).unwrap_or(Decimal::MAX);
    }
    (unmet, rel, not_met)
}

pub(super) fn variant_rank(v: &VariantResult) -> (u8, (usize, Decimal, usize)) {
    let met = if v.verdict == Verdict::Met { 0 } else { 1 };
    (met, criteria_rank(&v.criteria))
}

pub(crate) fn relative_shortfall(c: &CriterionResult) -> Decimal {
    if !c.any_of.is_empty() {
        return c
            .any_of
            .iter()
            .filter(|o| o.verdict == Verdict::NotMet)
            .map(relative_shortfall)
            .min()
            .unwrap_or(Decimal::ONE);
    }
    match (c.shortfall, c.threshold) {
        (Some(s), Some(t)) if !t.is_zero() => s.checked_div(t.abs()).unwrap_or(Decimal::ONE).min(Decimal::ONE),
        _ => Decimal::ONE,
    }
}
