//! MIIT quality-SME ladder (优质中小企业梯度培育): 创新型中小企业, 省级专精特新中小企业,
//! 国家级专精特新"小巨人". Like the listing standards, a scheme is dated data
//! (`rules/listing/sme-tier-miit-2022-08-01.json`); a later revision (the 2026-04-01 办法) is
//! another `TierScheme` with its own dates, picked by the evaluation date.
//!
//! Conditions reuse the listing `Criterion` language; scoring sheets are `Scorecard`s whose
//! indicators map a measured value (bands) or a categorical input (points) to points. An
//! indicator whose input is missing leaves the score as a range, and a score test is decided
//! only when the whole range falls on one side of the threshold.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::firm::Tier;
use crate::domain::readiness::rules::{compile_criteria, err};

mod eval;
use crate::domain::readiness::{
    Aggregate, ChoiceInput, Comparison, CompileCtx, CompiledCriterion, CompiledStandard, Confidence, Criterion, Ctx,
    FiscalYears, LatestYearBasis, Metric, ReadinessInput, RuleSetError, ScoreRange, SourceNote, Standard,
    StandardResult, Verdict, all_of, compile_standard,
};
use eval::{CompiledScheme, check_scheme, compile_scheme};

/// Points for a measured value: the first band whose comparison holds gives its points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub op: Comparison,
    #[schema(value_type = String)]
    pub threshold: Decimal,
    #[schema(value_type = String)]
    pub points: Decimal,
}

/// A measured quantity (same keys as a listing criterion) scored by bands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<Metric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u16>,
    pub bands: Vec<Band>,
    /// Points when no band holds.
    #[serde(default)]
    #[schema(value_type = String)]
    pub otherwise: Decimal,
}

/// One scoring indicator: either `measures` (the best-scoring measure counts, e.g. R&D input by
/// amount or by ratio) or a `choice` input with `points` per value (unlisted values score 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub name: String,
    pub label_zh: String,
    #[schema(value_type = String)]
    pub max_points: Decimal,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<Measure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<ChoiceInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub points: Option<BTreeMap<String, Decimal>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreCategory {
    pub name: String,
    pub label_zh: String,
    /// Must equal the sum of the indicators' `max_points`.
    #[schema(value_type = String)]
    pub max_points: Decimal,
    pub indicators: Vec<Indicator>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scorecard {
    pub name: String,
    pub label_zh: String,
    pub categories: Vec<ScoreCategory>,
}

/// The conditions of one tier: every condition (a `Standard`, possibly with variants) must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRules {
    pub tier: Tier,
    pub label_zh: String,
    pub conditions: Vec<Standard>,
}

/// A dated version of the MIIT scheme. In force on `effective_from <= date < effective_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierScheme {
    pub version: String,
    pub title_zh: String,
    pub effective_from: NaiveDate,
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    pub confidence: Confidence,
    pub dates_confidence: Confidence,
    pub sources: Vec<SourceNote>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub scorecards: Vec<Scorecard>,
    pub tiers: Vec<TierRules>,
}

impl TierScheme {
    /// Rejects a malformed scheme, naming the field (`scorecards[0].categories[1].max_points`).
    pub fn validate(&self) -> Result<(), RuleSetError> {
        compile_scheme(self).map(|_| ())
    }

    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|to| date < to)
    }
}

// ---------------------------------------------------------------------------------------------
// Results.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IndicatorResult {
    pub name: String,
    pub label_zh: String,
    #[schema(value_type = String)]
    pub max_points: Decimal,
    /// `None` while an input is missing; the category and total then carry a range.
    #[schema(value_type = Option<String>)]
    pub points: Option<Decimal>,
    /// While an input is missing: every score the indicator can still get, ascending (a yes/no
    /// indicator worth 10 or 5 gives `["5", "10"]`, not a range from 0). Empty once scored.
    #[schema(value_type = Vec<String>)]
    pub possible_points: Vec<Decimal>,
    /// The measured value (best-scoring measure) or the chosen value.
    #[schema(value_type = Option<String>)]
    pub actual: Option<Decimal>,
    pub choice: Option<String>,
    #[schema(value_type = Vec<i32>)]
    pub fiscal_years: FiscalYears,
    pub missing: Vec<String>,
    pub confidence: Option<Confidence>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryResult {
    pub name: String,
    pub label_zh: String,
    #[schema(value_type = String)]
    pub max_points: Decimal,
    /// Points certainly scored (missing inputs counted as 0).
    #[schema(value_type = String)]
    pub points_min: Decimal,
    /// Points if every missing input scored its best.
    #[schema(value_type = String)]
    pub points_max: Decimal,
    pub indicators: Vec<IndicatorResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScorecardResult {
    pub name: String,
    pub label_zh: String,
    #[schema(value_type = String)]
    pub points_min: Decimal,
    #[schema(value_type = String)]
    pub points_max: Decimal,
    pub categories: Vec<CategoryResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TierResult {
    pub tier: Tier,
    pub label_zh: String,
    pub verdict: Verdict,
    pub conditions: Vec<StandardResult>,
    /// Inputs to collect to decide the `unknown` conditions (from every route of each).
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TierCheck {
    pub scheme_version: String,
    pub scheme_confidence: Confidence,
    pub evaluated_on: NaiveDate,
    pub latest_fiscal_year: i32,
    pub latest_fiscal_year_basis: LatestYearBasis,
    /// The highest tier whose conditions are all met.
    pub highest_met: Option<Tier>,
    pub tiers: Vec<TierResult>,
    pub scorecards: Vec<ScorecardResult>,
}

/// No tier scheme is in force on the date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no SME tier scheme in force on {date}")]
pub struct NoTierSchemeInForce {
    pub date: NaiveDate,
}

const BUILTIN: &[(&str, &str)] =
    &[("sme-tier-miit-2022-08-01.json", include_str!("../../rules/listing/sme-tier-miit-2022-08-01.json"))];

/// Parses one tier scheme from JSON and validates it.
pub fn parse_tier_scheme(json: &str) -> Result<TierScheme, RuleSetError> {
    let scheme: TierScheme =
        serde_json::from_str(json).map_err(|e| RuleSetError { path: "$".to_owned(), message: e.to_string() })?;
    scheme.validate()?;
    Ok(scheme)
}

/// The embedded default schemes, parsed and validated.
pub fn builtin_tier_schemes() -> Result<Vec<TierScheme>, RuleSetError> {
    BUILTIN
        .iter()
        .map(|(file, json)| {
            parse_tier_scheme(json)
                .map_err(|e| RuleSetError { path: format!("{file}: {}", e.path), message: e.message })
        })
        .collect()
}

/// Validated, dated tier schemes.
#[derive(Debug, Clone)]
pub struct TierBook {
    schemes: Vec<CompiledScheme>,
}

impl TierBook {
    /// Validates every scheme and rejects overlapping periods (path `[i].effective_from`).
    pub fn new(schemes: Vec<TierScheme>) -> Result<Self, RuleSetError> {
        let mut compiled = Vec::with_capacity(schemes.len());
        for (i, s) in schemes.iter().enumerate() {
            compiled.push(
                compile_scheme(s)
                    .map_err(|e| RuleSetError { path: format!("[{i}].{}", e.path), message: e.message })?,
            );
            for o in &schemes[..i] {
                let overlap = s.effective_to.is_none_or(|to| o.effective_from < to)
                    && o.effective_to.is_none_or(|to| s.effective_from < to);
                if overlap {
                    return err(&format!("[{i}].effective_from"), format!("{} overlaps {}", s.version, o.version));
                }
            }
        }
        compiled.sort_by_key(|c| c.scheme.effective_from);
        Ok(TierBook { schemes: compiled })
    }

    pub fn builtin() -> Result<Self, RuleSetError> {
        TierBook::new(builtin_tier_schemes()?)
    }

    pub fn schemes(&self) -> impl Iterator<Item = &TierScheme> {
        self.schemes.iter().map(|c| &c.scheme)
    }

    /// Adds the attestation keys the tier conditions read to `into`.
    pub fn collect_attestation_keys(
        &self,
        into: &mut std::collections::BTreeMap<String, crate::domain::readiness::AttestationKey>,
    ) {
        for s in self.schemes() {
            crate::domain::readiness::collect_attestation_keys(
                s.tiers.iter().flat_map(|t| &t.conditions),
                &s.version,
                into,
            );
        }
    }

    pub fn scheme_in_force(&self, date: NaiveDate) -> Option<&TierScheme> {
        self.schemes.iter().find(|c| c.scheme.in_force_on(date)).map(|c| &c.scheme)
    }

    /// Checks every tier of the scheme in force on the evaluation date.
    pub fn check(&self, input: &ReadinessInput) -> Result<TierCheck, NoTierSchemeInForce> {
        let date = input.evaluation_date;
        let scheme = self.schemes.iter().find(|c| c.scheme.in_force_on(date)).ok_or(NoTierSchemeInForce { date })?;
        Ok(check_scheme(scheme, input))
    }
}

#[cfg(test)]
mod tests;
