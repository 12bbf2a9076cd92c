//! The full outcome of a firm × product pair for people: each rule's result with actual and
//! required values and advice, and how two outcomes differ.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::advice::{actual, advice, required};
use super::rules::{RuleKind, RuleSet};
use super::verdict::{Check, Verdict, check, evaluate};
use super::{CompiledProduct, FirmFacts, MatchFirm, MatchProduct};

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
}

impl Verdict {
    const fn default_empty() -> Verdict {
        Verdict { eligible: false, score: 0, met: RuleSet::EMPTY, unmet: RuleSet::EMPTY, unknown: RuleSet::EMPTY }
    }
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
