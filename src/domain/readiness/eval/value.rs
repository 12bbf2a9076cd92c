//! Values as exact fractions, known only as a lower bound, missing or undefined, and how a
//! comparison turns them into a verdict.

use std::borrow::Cow;

use rust_decimal::Decimal;

use super::SHOWN_DP;
use crate::domain::readiness::rules::Comparison;
use crate::domain::readiness::{AttestationUsed, FiscalYears, Verdict};

/// A value as a fraction `num / den` with `den > 0`, so comparisons can cross-multiply.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frac {
    pub(super) num: Decimal,
    pub(super) den: Decimal,
}

impl Frac {
    pub(super) fn whole(v: Decimal) -> Frac {
        Frac { num: v, den: Decimal::ONE }
    }

    fn holds(self, op: Comparison, threshold: Decimal) -> Option<bool> {
        Some(op.holds(self.num, threshold.checked_mul(self.den)?))
    }

    fn shown(self) -> Option<Decimal> {
        if self.den == Decimal::ONE {
            Some(self.num)
        } else {
            Some(self.num.checked_div(self.den)?.round_dp(SHOWN_DP).normalize())
        }
    }
}

/// A value that is known, known only as a lower bound (with what would make it exact), missing
/// from the input, or not defined (e.g. growth from a zero base).
pub(super) enum Val {
    Known(Frac),
    AtLeast(Frac, String),
    Missing,
    Undefined(String),
}

#[derive(Default)]
pub(super) struct Outcome {
    pub(super) verdict: Option<Verdict>,
    pub(super) actual: Option<Decimal>,
    pub(super) fiscal_years: FiscalYears,
    pub(super) missing: Vec<String>,
    /// Notes that depend on the data (the static ones are compiled into the criterion's note).
    pub(super) notes: Vec<Cow<'static, str>>,
    pub(super) attestation: Option<AttestationUsed>,
}

impl Outcome {
    pub(super) fn overflow(mut self) -> Outcome {
        self.verdict = Some(Verdict::Unknown);
        self.notes.push(Cow::Borrowed("arithmetic overflow: figures out of range"));
        self
    }
}

pub(super) fn hundred() -> Decimal {
    Decimal::ONE_HUNDRED
}

/// How far `actual` is from passing `op threshold` (0 at a strict boundary, e.g. profit 0 > 0).
pub(super) fn shortfall(op: Comparison, actual: Decimal, threshold: Decimal) -> Option<Decimal> {
    let gap = if op.wants_more() { threshold.checked_sub(actual) } else { actual.checked_sub(threshold) };
    gap.map(|g| g.max(Decimal::ZERO).round_dp(SHOWN_DP).normalize())
}

pub(super) fn verdict_only(v: Verdict) -> Outcome {
    Outcome { verdict: Some(v), ..Outcome::default() }
}

pub(super) fn overflow_val() -> Val {
    Val::Undefined("arithmetic overflow".to_owned())
}

pub(super) fn sum(values: &[Decimal]) -> Option<Decimal> {
    values.iter().try_fold(Decimal::ZERO, |acc, v| acc.checked_add(*v))
}

pub(super) fn ratio(num: Decimal, den: Decimal, why: impl FnOnce() -> String) -> Val {
    if den <= Decimal::ZERO {
        return Val::Undefined(format!("ratio undefined: {}", why()));
    }
    match num.checked_mul(hundred()) {
        Some(num) => Val::Known(Frac { num, den }),
        None => overflow_val(),
    }
}

pub(super) fn decide_single(mut o: Outcome, v: Val, op: Comparison, t: Decimal) -> Outcome {
    match v {
        // A lower bound decides an "at least" test it passes and an "at most" test it already
        // fails; anything else stays open until the record is known to be complete.
        Val::AtLeast(f, needed) => match f.holds(op, t) {
            Some(holds) => {
                o.actual = f.shown();
                if holds == op.wants_more() {
                    o.verdict = Some(if holds { Verdict::Met } else { Verdict::NotMet });
                    o.notes.push(Cow::Owned(format!("at least this much; {needed} not confirmed")));
                } else {
                    o.verdict = Some(Verdict::Unknown);
                    o.missing.push(needed);
                }
                o
            }
            None => o.overflow(),
        },
        Val::Known(f) => match f.holds(op, t) {
            Some(ok) => {
                o.verdict = Some(if ok { Verdict::Met } else { Verdict::NotMet });
                o.actual = f.shown();
                o
            }
            None => o.overflow(),
        },
        Val::Missing => {
            o.verdict = Some(Verdict::Unknown);
            o
        }
        Val::Undefined(why) => {
            o.verdict = Some(Verdict::NotMet);
            o.notes.push(Cow::Owned(why));
            o
        }
    }
}

/// Every year must pass. A known failing year decides `not_met` even when other years are
/// missing; the value shown is the weakest known year's.
pub(super) fn decide_each(mut o: Outcome, vals: Vec<(i32, Val)>, op: Comparison, t: Decimal) -> Outcome {
    let mut failed = false;
    let mut any_missing = false;
    let mut worst: Option<Decimal> = None;
    for (fy, v) in vals {
        match v {
            Val::Known(f) => {
                let Some(ok) = f.holds(op, t) else {
                    return o.overflow();
                };
                failed |= !ok;
                if let Some(shown) = f.shown() {
                    let worse = match worst {
                        None => true,
                        Some(w) => {
                            if op.wants_more() {
                                shown < w
                            } else {
                                shown > w
                            }
                        }
                    };
                    if worse {
                        worst = Some(shown);
                    }
                }
            }
            Val::Missing | Val::AtLeast(..) => any_missing = true,
            Val::Undefined(why) => {
                failed = true;
                o.notes.push(Cow::Owned(format!("{fy}: {why}")));
            }
        }
    }
    o.verdict = Some(if failed {
        Verdict::NotMet
    } else if any_missing {
        Verdict::Unknown
    } else {
        Verdict::Met
    });
    o.actual = worst;
    o
}
