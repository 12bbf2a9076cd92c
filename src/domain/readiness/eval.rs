//! The generic criterion interpreter shared by the listing-readiness evaluator and the SME tier
//! check. Every comparison is exact Decimal arithmetic: a ratio `a / b ≥ t` is decided as
//! `a ≥ t·b`, a CAGR as `last·100ⁿ ≥ first·(100+t)ⁿ`; divisions only produce the values shown.
//! Overflow (only possible with absurd inputs) makes a criterion `unknown`, never a panic.
//!
//! The evaluator here walks criterion → variant → standard; `value` holds the exact values and
//! how a comparison decides, `figures` reads the numbers a comparison needs, `facts` the yes/no
//! facts and scorecards, `rank` orders variants and standards by how close they are.

mod facts;
mod figures;
mod rank;
mod value;

use std::borrow::Cow;
use std::cell::Cell;

use rust_decimal::Decimal;

use crate::domain::firm::FinancialYear;
use crate::domain::firm_inputs::AttestationSource;
use crate::domain::readiness::input::ReadinessInput;
use crate::domain::readiness::rules::{CompiledCriterion, CompiledStandard, CompiledVariant, Test};
use crate::domain::readiness::{
    AttestationUsed, CriterionResult, FiscalYears, RuleBook, StandardResult, Text, VariantResult, Verdict,
};
use rank::variant_rank;
pub(crate) use rank::{criteria_rank, relative_shortfall};
use value::{Outcome, shortfall, verdict_only};

/// Windows never reach further back than this many fiscal years (validated in the rules).
const MAX_YEARS: usize = 6;
/// Decimal places of derived values (ratios, growth, averages) as shown; verdicts use exact values.
const SHOWN_DP: u32 = 4;

/// Range of a scorecard's total and category subtotals, given what is unknown.
#[derive(Debug, Clone)]
pub(crate) struct ScoreRange {
    pub total: (Decimal, Decimal),
    pub categories: Vec<(Decimal, Decimal)>,
    pub missing: Vec<String>,
    pub category_missing: Vec<Vec<String>>,
}

pub(crate) struct Ctx<'a> {
    pub input: &'a ReadinessInput,
    pub latest: i32,
    years: [Option<&'a FinancialYear>; MAX_YEARS],
    pub scores: &'a [ScoreRange],
    book: Option<&'a RuleBook>,
    exchange: Cell<Option<Verdict>>,
}

pub(crate) fn all_of(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    let mut out = Verdict::Met;
    for v in verdicts {
        match v {
            Verdict::NotMet => return Verdict::NotMet,
            Verdict::Unknown => out = Verdict::Unknown,
            Verdict::Met => {}
        }
    }
    out
}

pub(crate) fn any_of(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    let mut out = Verdict::NotMet;
    for v in verdicts {
        match v {
            Verdict::Met => return Verdict::Met,
            Verdict::Unknown => out = Verdict::Unknown,
            Verdict::NotMet => {}
        }
    }
    out
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(input: &'a ReadinessInput, book: Option<&'a RuleBook>, scores: &'a [ScoreRange]) -> Self {
        let latest = input.latest_fiscal_year();
        let mut years = [None; MAX_YEARS];
        for fy in &input.financials {
            let back = i64::from(latest) - i64::from(fy.fiscal_year);
            if (0..MAX_YEARS as i64).contains(&back) {
                years[back as usize] = Some(fy);
            }
        }
        Ctx { input, latest, years, scores, book, exchange: Cell::new(None) }
    }

    pub(crate) fn set_exchange_verdict(&self, v: Verdict) {
        self.exchange.set(Some(v));
    }

    pub(crate) fn criterion(&self, c: &CompiledCriterion) -> CriterionResult {
        let mut result = CriterionResult {
            name: c.name.clone(),
            label_zh: c.label_zh.clone(),
            verdict: Verdict::Unknown,
            actual: None,
            threshold: None,
            comparison: None,
            unit: c.unit,
            shortfall: None,
            fiscal_years: FiscalYears::default(),
            missing: Vec::new(),
            note: c.note.clone(),
            confidence: c.confidence,
            attestation: None,
            any_of: Vec::new(),
        };
        let outcome = match &c.test {
            Test::Compare { quantity, op, threshold } => {
                result.threshold = Some(*threshold);
                result.comparison = Some(*op);
                let o = self.compare(quantity, *op, *threshold);
                if o.verdict == Some(Verdict::NotMet)
                    && let Some(actual) = o.actual
                {
                    result.shortfall = shortfall(*op, actual, *threshold);
                }
                o
            }
            Test::Fact(f) => self.fact(*f),
            Test::Attestation(key) => {
                match self.input.attestations.get(key.as_str()) {
                    Some(a) => {
                        let mut o = verdict_only(if a.holds { Verdict::Met } else { Verdict::NotMet });
                        if a.source == AttestationSource::SelfDeclared {
                            o.notes.push(Cow::Borrowed("企业自我声明，尚未经主管部门确认 (self-declared by the firm, not confirmed by the office)"));
                        }
                        o.attestation = Some(AttestationUsed {
                            source: a.source,
                            stated_on: a.stated_on,
                            document_ref: a.document_ref.clone(),
                        });
                        o
                    }
                    None => Outcome {
                        verdict: Some(Verdict::Unknown),
                        missing: vec![format!("attestation {key}")],
                        ..Outcome::default()
                    },
                }
            }
            Test::IndustryNotIn(prefixes) => match self.input.industry_code.as_deref() {
                Some(code) if !code.trim().is_empty() => {
                    let code = code.trim();
                    match prefixes.iter().find(|p| code.starts_with(p.as_str())) {
                        Some(p) => Outcome {
                            verdict: Some(Verdict::NotMet),
                            notes: vec![Cow::Owned(format!("industry {code} falls under {p}"))],
                            ..Outcome::default()
                        },
                        None => verdict_only(Verdict::Met),
                    }
                }
                _ => Outcome {
                    verdict: Some(Verdict::Unknown),
                    missing: vec!["industry_code".to_owned()],
                    ..Outcome::default()
                },
            },
            Test::Choice { input, one_of } => match self.input.sme.choice(*input) {
                Some(v) if one_of.iter().any(|o| o == v) => verdict_only(Verdict::Met),
                Some(v) => Outcome {
                    verdict: Some(Verdict::NotMet),
                    notes: vec![Cow::Owned(format!("{} is {v}", input.as_str()))],
                    ..Outcome::default()
                },
                None => Outcome {
                    verdict: Some(Verdict::Unknown),
                    missing: vec![format!("sme.{}", input.as_str())],
                    ..Outcome::default()
                },
            },
            Test::Score { card, category, op, threshold } => {
                result.threshold = Some(*threshold);
                result.comparison = Some(*op);
                let o = self.score(*card, *category, *op, *threshold);
                if o.verdict == Some(Verdict::NotMet)
                    && let Some(actual) = o.actual
                {
                    result.shortfall = shortfall(*op, actual, *threshold);
                }
                o
            }
            Test::AnyOf(options) => {
                result.any_of = options.iter().map(|o| self.criterion(o)).collect();
                let v = any_of(result.any_of.iter().map(|r| r.verdict));
                let mut missing = Vec::new();
                if v == Verdict::Unknown {
                    for r in &result.any_of {
                        missing.extend(r.missing.iter().cloned());
                    }
                }
                Outcome { verdict: Some(v), missing, ..Outcome::default() }
            }
        };
        result.verdict = outcome.verdict.unwrap_or(Verdict::Unknown);
        result.actual = outcome.actual;
        result.fiscal_years = outcome.fiscal_years;
        result.missing = outcome.missing;
        result.attestation = outcome.attestation;
        if !outcome.notes.is_empty() {
            let mut note = result.note.as_deref().unwrap_or_default().to_owned();
            for n in outcome.notes {
                if !note.is_empty() {
                    note.push_str("; ");
                }
                note.push_str(&n);
            }
            result.note = Some(Text::from(note));
        }
        result
    }

    pub(crate) fn variant(&self, v: &CompiledVariant) -> VariantResult {
        let criteria: Vec<CriterionResult> = v.criteria.iter().map(|c| self.criterion(c)).collect();
        VariantResult {
            variant: v.label.clone(),
            label_zh: v.label_zh.clone(),
            verdict: all_of(criteria.iter().map(|c| c.verdict)),
            criteria,
        }
    }

    /// A standard's verdict is that of its best variant; the best variant's criteria are shown
    /// first, the other variants after it.
    pub(crate) fn standard(&self, s: &CompiledStandard) -> StandardResult {
        let mut variants: Vec<VariantResult> = s.variants.iter().map(|v| self.variant(v)).collect();
        // Single-variant standards (most of them) need no ranking.
        let best = if variants.len() < 2 {
            0
        } else {
            variants.iter().enumerate().map(|(i, v)| (variant_rank(v), i)).min().map_or(0, |(_, i)| i)
        };
        let verdict = any_of(variants.iter().map(|v| v.verdict));
        let chosen = if variants.is_empty() {
            VariantResult { variant: Text::default(), label_zh: None, verdict, criteria: Vec::new() }
        } else {
            variants.remove(best)
        };
        StandardResult {
            code: s.code.clone(),
            label_zh: s.label_zh.clone(),
            verdict,
            variant: if chosen.variant.is_empty() { None } else { Some(chosen.variant) },
            criteria: chosen.criteria,
            other_variants: variants,
            confidence: s.confidence,
            note: s.note.clone(),
        }
    }
}
