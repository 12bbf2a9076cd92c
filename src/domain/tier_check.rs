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
use crate::domain::readiness::{
    Aggregate, ChoiceInput, Comparison, CompileCtx, CompiledCriterion, CompiledStandard, Confidence, Criterion, Ctx,
    FiscalYears, LatestYearBasis, Metric, ReadinessInput, RuleSetError, ScoreRange, SourceNote, Standard,
    StandardResult, Verdict, all_of, compile_standard,
};

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

// ---------------------------------------------------------------------------------------------
// Compiled form and evaluation.

#[derive(Debug, Clone)]
enum CompiledIndicator {
    /// Per measure: one criterion per band (with its points) and the fallback points.
    Measures(Vec<(Vec<(CompiledCriterion, Decimal)>, Decimal)>),
    Choice {
        input: ChoiceInput,
        points: BTreeMap<String, Decimal>,
    },
}

#[derive(Debug, Clone)]
struct CompiledScheme {
    scheme: TierScheme,
    /// [card][category][indicator]
    indicators: Vec<Vec<Vec<CompiledIndicator>>>,
    tiers: Vec<(Tier, String, Vec<CompiledStandard>)>,
}

fn compile_scheme(s: &TierScheme) -> Result<CompiledScheme, RuleSetError> {
    if s.version.trim().is_empty() {
        return err("version", "must not be empty");
    }
    if let Some(to) = s.effective_to
        && to <= s.effective_from
    {
        return err("effective_to", "must be after effective_from");
    }
    if s.sources.is_empty() {
        return err("sources", "at least one source note is required");
    }
    let no_cards = CompileCtx::default();
    let mut indicators = Vec::with_capacity(s.scorecards.len());
    for (ci, card) in s.scorecards.iter().enumerate() {
        let cpath = format!("scorecards[{ci}]");
        if s.scorecards[..ci].iter().any(|o| o.name == card.name) {
            return err(&format!("{cpath}.name"), format!("duplicate scorecard {}", card.name));
        }
        if card.categories.is_empty() {
            return err(&format!("{cpath}.categories"), "must not be empty");
        }
        let mut cats = Vec::with_capacity(card.categories.len());
        for (gi, cat) in card.categories.iter().enumerate() {
            let gpath = format!("{cpath}.categories[{gi}]");
            if card.categories[..gi].iter().any(|o| o.name == cat.name) {
                return err(&format!("{gpath}.name"), format!("duplicate category {}", cat.name));
            }
            if cat.indicators.is_empty() {
                return err(&format!("{gpath}.indicators"), "must not be empty");
            }
            let sum = cat.indicators.iter().map(|i| i.max_points).sum::<Decimal>();
            if sum != cat.max_points {
                return err(
                    &format!("{gpath}.max_points"),
                    format!("is {} but the indicators' max_points add up to {sum}", cat.max_points),
                );
            }
            let mut inds = Vec::with_capacity(cat.indicators.len());
            for (ii, ind) in cat.indicators.iter().enumerate() {
                inds.push(compile_indicator(ind, &format!("{gpath}.indicators[{ii}]"), &no_cards)?);
            }
            cats.push(inds);
        }
        indicators.push(cats);
    }
    let names: Vec<(&str, Vec<&str>)> = s
        .scorecards
        .iter()
        .map(|c| (c.name.as_str(), c.categories.iter().map(|g| g.name.as_str()).collect()))
        .collect();
    let ctx = CompileCtx { scorecards: &names };
    if s.tiers.is_empty() {
        return err("tiers", "must not be empty");
    }
    let mut tiers = Vec::with_capacity(s.tiers.len());
    for (ti, t) in s.tiers.iter().enumerate() {
        let tpath = format!("tiers[{ti}]");
        if s.tiers[..ti].iter().any(|o| o.tier == t.tier) {
            return err(&format!("{tpath}.tier"), format!("duplicate tier {}", t.tier));
        }
        if t.conditions.is_empty() {
            return err(&format!("{tpath}.conditions"), "must not be empty");
        }
        let mut codes = Vec::new();
        let mut conds = Vec::with_capacity(t.conditions.len());
        for (si, st) in t.conditions.iter().enumerate() {
            conds.push(compile_standard(st, &format!("{tpath}.conditions[{si}]"), &ctx, &mut codes)?);
        }
        tiers.push((t.tier, t.label_zh.clone(), conds));
    }
    Ok(CompiledScheme { scheme: s.clone(), indicators, tiers })
}

fn compile_indicator(ind: &Indicator, path: &str, ctx: &CompileCtx<'_>) -> Result<CompiledIndicator, RuleSetError> {
    if ind.name.trim().is_empty() {
        return err(&format!("{path}.name"), "must not be empty");
    }
    if ind.max_points <= Decimal::ZERO {
        return err(&format!("{path}.max_points"), "must be positive");
    }
    let check_points = |p: Decimal, at: &str| {
        if p < Decimal::ZERO || p > ind.max_points {
            err(at, format!("must be between 0 and max_points ({})", ind.max_points))
        } else {
            Ok(())
        }
    };
    match (ind.measures.is_empty(), ind.choice, &ind.points) {
        (false, None, None) => {
            let mut measures = Vec::with_capacity(ind.measures.len());
            for (mi, m) in ind.measures.iter().enumerate() {
                let mpath = format!("{path}.measures[{mi}]");
                if m.bands.is_empty() {
                    return err(&format!("{mpath}.bands"), "must not be empty");
                }
                check_points(m.otherwise, &format!("{mpath}.otherwise"))?;
                let mut bands = Vec::with_capacity(m.bands.len());
                for (bi, b) in m.bands.iter().enumerate() {
                    let bpath = format!("{mpath}.bands[{bi}]");
                    check_points(b.points, &format!("{bpath}.points"))?;
                    let c = Criterion {
                        name: format!("{}_band_{bi}", ind.name),
                        label_zh: ind.label_zh.clone(),
                        metric: Some(m.metric),
                        over: m.over,
                        aggregate: m.aggregate,
                        years: m.years,
                        months: m.months,
                        op: Some(b.op),
                        threshold: Some(b.threshold),
                        fact: None,
                        attestation: None,
                        office_only: None,
                        industry_not_in: None,
                        choice: None,
                        one_of: None,
                        score: None,
                        category: None,
                        any_of: None,
                        note: None,
                        confidence: None,
                    };
                    // Errors name the measure (its keys are the criterion's keys).
                    let compiled = compile_criteria(std::slice::from_ref(&c), &bpath, ctx).map_err(|e| {
                        RuleSetError { path: e.path.replacen(&format!("{bpath}[0]"), &mpath, 1), message: e.message }
                    })?;
                    for cc in compiled {
                        bands.push((cc, b.points));
                    }
                }
                measures.push((bands, m.otherwise));
            }
            Ok(CompiledIndicator::Measures(measures))
        }
        (true, Some(input), Some(points)) => {
            for (value, p) in points {
                if !input.allowed().contains(&value.as_str()) {
                    return err(
                        &format!("{path}.points.{value}"),
                        format!("must be one of: {}", input.allowed().join(", ")),
                    );
                }
                check_points(*p, &format!("{path}.points.{value}"))?;
            }
            Ok(CompiledIndicator::Choice { input, points: points.clone() })
        }
        _ => err(path, "give either `measures`, or `choice` with `points`"),
    }
}

fn push_unique(into: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for m in items {
        if !into.contains(&m) {
            into.push(m);
        }
    }
}

fn score_indicator(
    ind: &Indicator,
    compiled: &CompiledIndicator,
    ctx: &Ctx<'_>,
) -> (IndicatorResult, Decimal, Decimal) {
    let mut r = IndicatorResult {
        name: ind.name.clone(),
        label_zh: ind.label_zh.clone(),
        max_points: ind.max_points,
        points: None,
        possible_points: Vec::new(),
        actual: None,
        choice: None,
        fiscal_years: FiscalYears::default(),
        missing: Vec::new(),
        confidence: ind.confidence,
        note: ind.note.clone(),
    };
    match compiled {
        CompiledIndicator::Choice { input, points } => match ctx.input.sme.choice(*input) {
            Some(v) => {
                let p = points.get(v).copied().unwrap_or(Decimal::ZERO);
                r.choice = Some(v.to_owned());
                r.points = Some(p);
                (r, p, p)
            }
            None => {
                r.missing.push(format!("sme.{}", input.as_str()));
                // Any allowed value may turn up; one the sheet does not list scores 0.
                let mut possible: Vec<Decimal> =
                    input.allowed().iter().map(|v| points.get(*v).copied().unwrap_or(Decimal::ZERO)).collect();
                possible.sort_unstable();
                possible.dedup();
                let (lo, hi) = (possible[0], possible[possible.len() - 1]);
                r.possible_points = possible;
                (r, lo, hi)
            }
        },
        CompiledIndicator::Measures(measures) => {
            // Best known measure, and the scores each unknown measure could still give.
            let mut known_best: Option<Decimal> = None;
            let mut unknown_sets: Vec<Vec<Decimal>> = Vec::new();
            for (bands, otherwise) in measures {
                let mut scored = None;
                let mut unknown = false;
                for (criterion, points) in bands {
                    let c = ctx.criterion(criterion);
                    if r.fiscal_years.is_empty() {
                        r.fiscal_years = c.fiscal_years;
                    }
                    match c.verdict {
                        Verdict::Met => {
                            if known_best.is_none_or(|k| *points > k) {
                                r.actual = c.actual;
                            }
                            scored = Some(*points);
                            break;
                        }
                        Verdict::NotMet => {
                            if r.actual.is_none() {
                                r.actual = c.actual;
                            }
                        }
                        Verdict::Unknown => {
                            push_unique(&mut r.missing, c.missing);
                            unknown = true;
                            // The bands read one value, so any band (or none) may still hold.
                            let mut set: Vec<Decimal> = bands.iter().map(|(_, p)| *p).collect();
                            set.push(*otherwise);
                            unknown_sets.push(set);
                            break;
                        }
                    }
                }
                if !unknown {
                    let p = scored.unwrap_or(*otherwise);
                    known_best = Some(known_best.map_or(p, |k| k.max(p)));
                }
            }
            // The indicator scores its best measure: no lower than the known best, nor than the
            // least each unknown measure will give.
            let floor = unknown_sets
                .iter()
                .filter_map(|set| set.iter().copied().min())
                .fold(known_best.unwrap_or(Decimal::ZERO), Decimal::max);
            let mut possible: Vec<Decimal> =
                unknown_sets.iter().flatten().copied().chain(std::iter::once(floor)).filter(|p| *p >= floor).collect();
            possible.sort_unstable();
            possible.dedup();
            if possible.len() > 1 {
                let (lo, hi) = (possible[0], possible[possible.len() - 1]);
                r.possible_points = possible;
                (r, lo, hi)
            } else {
                r.points = Some(floor);
                r.missing.clear();
                (r, floor, floor)
            }
        }
    }
}

fn score_card(card: &Scorecard, compiled: &[Vec<CompiledIndicator>], ctx: &Ctx<'_>) -> (ScorecardResult, ScoreRange) {
    let mut categories = Vec::with_capacity(card.categories.len());
    let mut range = ScoreRange {
        total: (Decimal::ZERO, Decimal::ZERO),
        categories: Vec::with_capacity(card.categories.len()),
        missing: Vec::new(),
        category_missing: Vec::with_capacity(card.categories.len()),
    };
    for (cat, inds) in card.categories.iter().zip(compiled) {
        let mut lo = Decimal::ZERO;
        let mut hi = Decimal::ZERO;
        let mut missing = Vec::new();
        let mut results = Vec::with_capacity(cat.indicators.len());
        for (ind, ci) in cat.indicators.iter().zip(inds) {
            let (r, l, h) = score_indicator(ind, ci, ctx);
            lo += l;
            hi += h;
            push_unique(&mut missing, r.missing.iter().cloned());
            results.push(r);
        }
        range.total.0 += lo;
        range.total.1 += hi;
        range.categories.push((lo, hi));
        push_unique(&mut range.missing, missing.iter().cloned());
        range.category_missing.push(missing);
        categories.push(CategoryResult {
            name: cat.name.clone(),
            label_zh: cat.label_zh.clone(),
            max_points: cat.max_points,
            points_min: lo,
            points_max: hi,
            indicators: results,
        });
    }
    (
        ScorecardResult {
            name: card.name.clone(),
            label_zh: card.label_zh.clone(),
            points_min: range.total.0,
            points_max: range.total.1,
            categories,
        },
        range,
    )
}

fn check_scheme(c: &CompiledScheme, input: &ReadinessInput) -> TierCheck {
    let plain = Ctx::new(input, None, &[]);
    let mut cards = Vec::with_capacity(c.scheme.scorecards.len());
    let mut ranges = Vec::with_capacity(c.scheme.scorecards.len());
    for (card, compiled) in c.scheme.scorecards.iter().zip(&c.indicators) {
        let (r, range) = score_card(card, compiled, &plain);
        cards.push(r);
        ranges.push(range);
    }
    let ctx = Ctx::new(input, None, &ranges);
    let mut tiers = Vec::with_capacity(c.tiers.len());
    for (tier, label, conditions) in &c.tiers {
        let results: Vec<StandardResult> =
            conditions.iter().filter(|s| s.in_force_on(input.evaluation_date)).map(|s| ctx.standard(s)).collect();
        let verdict = all_of(results.iter().map(|s| s.verdict));
        let mut missing = Vec::new();
        if verdict == Verdict::Unknown {
            // Every route of an undecided condition, so that any of them can be completed.
            for s in results.iter().filter(|s| s.verdict == Verdict::Unknown) {
                let routes = s.other_variants.iter().map(|v| &v.criteria);
                for cr in std::iter::once(&s.criteria).chain(routes).flatten() {
                    push_unique(&mut missing, cr.missing.iter().cloned());
                }
            }
        }
        tiers.push(TierResult { tier: *tier, label_zh: label.clone(), verdict, conditions: results, missing });
    }
    let highest_met = tiers.iter().filter(|t| t.verdict == Verdict::Met).map(|t| t.tier).max();
    TierCheck {
        scheme_version: c.scheme.version.clone(),
        scheme_confidence: c.scheme.confidence,
        evaluated_on: input.evaluation_date,
        latest_fiscal_year: ctx.latest,
        latest_fiscal_year_basis: input.latest_fiscal_year_and_basis().1,
        highest_met,
        tiers,
        scorecards: cards,
    }
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
mod tests {
    use super::*;
    use crate::domain::firm::FinancialYear;
    use crate::domain::readiness::{EquityFinancing, IpClass, ProductChainRole, RdInstitutionLevel, SmeExtras};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn book() -> TierBook {
        TierBook::builtin().expect("builtin tier schemes are valid")
    }

    /// A firm that scores full marks everywhere it can and meets every tier.
    fn strong() -> ReadinessInput {
        let year = |y: i32, rev: &str, mbr: &str, rd: &str| FinancialYear {
            fiscal_year: y,
            revenue: Some(d(rev)),
            main_business_revenue: Some(d(mbr)),
            net_profit: Some(d("20000000")),
            net_profit_deducted: Some(d("19000000")),
            rd_expense: Some(d(rd)),
            total_assets: Some(d("200000000")),
            total_liabilities: Some(d("60000000")),
            net_assets: Some(d("140000000")),
            employees: Some(200),
            rd_staff: Some(50),
            invention_patents: Some(12),
            ..FinancialYear::default()
        };
        let mut attestations = BTreeMap::new();
        for k in [
            "lg_strategy_governance_credit",
            "lg_core_business_information_system",
            "lg_management_or_product_certification",
            "lg_own_brand",
            "lg_key_chain_link",
            "lg_priority_product_field",
            "lg_not_single_champion_or_group_member",
        ] {
            attestations.insert(k.to_owned(), true.into());
        }
        // Direct routes denied, so that the general routes decide.
        for k in ["lg_national_st_award_top3_3y", "lg_maker_china_top50_3y"] {
            attestations.insert(k.to_owned(), false.into());
        }
        ReadinessInput {
            evaluation_date: date("2025-06-30"),
            financials: vec![
                year(2022, "100000000", "95000000", "6000000"),
                year(2023, "120000000", "114000000", "7000000"),
                year(2024, "150000000", "142500000", "9000000"),
            ],
            tier: Some(Tier::ProvincialSrdi),
            equity_financings: Some(vec![]),
            attestations,
            sme: SmeExtras {
                ip_best_class: Some(IpClass::HighValueClassI),
                class_i_ip_in_use: Some(5),
                strategic_emerging_industry: Some(true),
                niche_market_years: Some(d("12")),
                product_chain_role: Some(ProductChainRole::FillsChainGap),
                digitalisation_level: Some(3),
                quality_items: Some(3),
                rd_institution_level: Some(RdInstitutionLevel::National),
                national_niche_market_share: Some(d("15")),
                provincial_key_industry: Some(crate::domain::readiness::ProvincialKeyIndustry::ProvincialPlanAndChain),
                innovative_operation_items: Some(2),
                niche_share_rank: Some(crate::domain::readiness::NicheShareRank::NationalTop3),
                listing_progress: Some(crate::domain::readiness::ListingProgress::ListedOrNeeq),
            },
            ..ReadinessInput::default()
        }
    }

    /// Denies every 创新型 direct-entry route, so that the score decides.
    fn no_direct(input: &mut ReadinessInput) {
        input.attestations.insert("innovative_st_award_3y".to_owned(), false.into());
        input.attestations.insert("innovative_valid_honour".to_owned(), false.into());
        input.sme.rd_institution_level = Some(RdInstitutionLevel::Municipal);
        input.equity_financings = Some(vec![]);
    }

    fn tier(check: &TierCheck, t: Tier) -> &TierResult {
        check.tiers.iter().find(|r| r.tier == t).unwrap()
    }

    fn condition<'a>(r: &'a TierResult, code: &str) -> &'a StandardResult {
        r.conditions.iter().find(|s| s.code == code).unwrap()
    }

    fn indicator<'a>(c: &'a TierCheck, card: &str, name: &str) -> &'a IndicatorResult {
        c.scorecards
            .iter()
            .find(|s| s.name == card)
            .unwrap()
            .categories
            .iter()
            .flat_map(|g| &g.indicators)
            .find(|i| i.name == name)
            .unwrap()
    }

    fn set_latest(input: &mut ReadinessInput, f: impl Fn(&mut FinancialYear)) {
        let latest = input.latest_fiscal_year();
        f(input.financials.iter_mut().find(|y| y.fiscal_year == latest).unwrap());
    }

    #[test]
    fn builtin_scheme_is_valid_and_round_trips() {
        let schemes = builtin_tier_schemes().unwrap();
        for s in schemes {
            let json = serde_json::to_string(&s).unwrap();
            let back: TierScheme = serde_json::from_str(&json).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn scheme_is_picked_by_date() {
        let b = book();
        assert_eq!(b.scheme_in_force(date("2024-01-01")).unwrap().version, "miit-2022-08-01");
        assert!(b.scheme_in_force(date("2022-07-31")).is_none());
        // The 2026 办法 replaces the 2022 scheme; until its data is added nothing is in force.
        assert!(b.scheme_in_force(date("2026-04-01")).is_none());
        let mut input = strong();
        input.evaluation_date = date("2026-04-01");
        assert_eq!(b.check(&input).unwrap_err(), NoTierSchemeInForce { date: date("2026-04-01") });
    }

    #[test]
    fn strong_firm_meets_every_tier_with_full_scores() {
        let c = book().check(&strong()).unwrap();
        for t in &c.tiers {
            assert_eq!(t.verdict, Verdict::Met, "{:?}: {:#?}", t.tier, t.conditions);
        }
        assert_eq!(c.highest_met, Some(Tier::LittleGiant));
        let innovative = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
        assert_eq!(innovative.points_min, d("100"));
        assert_eq!(innovative.points_max, d("100"));
        let srdi = c.scorecards.iter().find(|s| s.name == "provincial_srdi").unwrap();
        assert_eq!(srdi.points_min, srdi.points_max);
        assert_eq!(srdi.points_min, d("100"));
    }

    /// (indicator, setter value, expected points): each band edge of the 创新型 sheet.
    #[test]
    fn innovative_sme_bands_at_boundaries() {
        type Setter = fn(&mut ReadinessInput, Decimal);
        let rd_ratio: Setter = |i, x| set_latest(i, |y| y.rd_expense = Some(y.revenue.unwrap() * x / d("100")));
        let debt: Setter = |i, x| set_latest(i, |y| y.total_liabilities = Some(y.total_assets.unwrap() * x / d("100")));
        let mb_share: Setter =
            |i, x| set_latest(i, |y| y.main_business_revenue = Some(y.revenue.unwrap() * x / d("100")));
        let mb_growth: Setter = |i, x| {
            let prev = d("114000000");
            set_latest(i, |y| y.main_business_revenue = Some(prev * (d("100") + x) / d("100")))
        };
        let cases: &[(&str, Setter, &str, &str)] = &[
            ("rd_ratio", rd_ratio, "5", "20"),
            ("rd_ratio", rd_ratio, "4.99", "15"),
            ("rd_ratio", rd_ratio, "3", "15"),
            ("rd_ratio", rd_ratio, "2.99", "10"),
            ("rd_ratio", rd_ratio, "2", "10"),
            ("rd_ratio", rd_ratio, "1", "5"),
            ("rd_ratio", rd_ratio, "0.99", "0"),
            ("debt_ratio", debt, "54.99", "10"),
            ("debt_ratio", debt, "55", "5"),
            ("debt_ratio", debt, "75", "5"),
            ("debt_ratio", debt, "75.01", "0"),
            ("main_business_share", mb_share, "70", "20"),
            ("main_business_share", mb_share, "69.99", "15"),
            ("main_business_share", mb_share, "60", "15"),
            ("main_business_share", mb_share, "55", "10"),
            ("main_business_share", mb_share, "50", "5"),
            ("main_business_share", mb_share, "49.99", "0"),
            ("main_business_growth", mb_growth, "15", "20"),
            ("main_business_growth", mb_growth, "14.99", "15"),
            ("main_business_growth", mb_growth, "10", "15"),
            ("main_business_growth", mb_growth, "5", "10"),
            ("main_business_growth", mb_growth, "0", "5"),
            ("main_business_growth", mb_growth, "-0.01", "0"),
        ];
        let b = book();
        for (name, set, x, points) in cases {
            let mut input = strong();
            set(&mut input, d(x));
            let c = b.check(&input).unwrap();
            let i = indicator(&c, "innovative_sme", name);
            assert_eq!(i.points, Some(d(points)), "{name} at {x}: {i:#?}");
        }
    }

    #[test]
    fn innovative_sme_score_and_sub_floors() {
        let b = book();
        // Total 60 exactly with every floor met: innovation 20 (IP 0 + R&D 20), growth 15
        // (growth 5 + debt 10), specialisation 25 (field 5 + share 20)  → 60.
        let mut input = strong();
        no_direct(&mut input);
        input.sme.ip_best_class = Some(IpClass::NoIp);
        input.sme.strategic_emerging_industry = Some(false);
        set_latest(&mut input, |y| y.main_business_revenue = Some(d("114000000"))); // growth 0 → 5
        let c = b.check(&input).unwrap();
        let card = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
        assert_eq!(card.points_min, d("60"));
        let route = condition(tier(&c, Tier::InnovativeSme), "innovative_sme_route");
        assert_eq!(route.verdict, Verdict::Met);
        assert_eq!(route.variant.as_deref(), Some("score"));

        // Debt ratio 55% scores 5, not 10: total 55 and the growth floor (10 < 15) fail.
        set_latest(&mut input, |y| y.total_liabilities = Some(d("110000000")));
        let c = b.check(&input).unwrap();
        let card = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
        assert_eq!(card.points_min, d("55"));
        assert_eq!(tier(&c, Tier::InnovativeSme).verdict, Verdict::NotMet);

        // A floor decides even with a high total: innovation below 20.
        let mut input = strong();
        no_direct(&mut input);
        input.sme.ip_best_class = Some(IpClass::NoIp);
        set_latest(&mut input, |y| y.rd_expense = Some(y.revenue.unwrap() * d("0.0299")));
        let c = b.check(&input).unwrap();
        let route = condition(tier(&c, Tier::InnovativeSme), "innovative_sme_route");
        let score = route.criteria.iter().chain(route.other_variants.iter().flat_map(|v| &v.criteria));
        let floor = score.clone().find(|c| c.name == "innovation_floor").unwrap();
        assert_eq!(floor.verdict, Verdict::NotMet);
        assert_eq!(floor.actual, Some(d("10")));
        assert_eq!(route.verdict, Verdict::NotMet);
    }

    #[test]
    fn missing_scoring_input_gives_a_range_and_unknown() {
        let b = book();
        let mut input = strong();
        no_direct(&mut input);
        input.sme.ip_best_class = None;
        input.sme.strategic_emerging_industry = Some(false);
        set_latest(&mut input, |y| y.rd_expense = Some(y.revenue.unwrap() * d("0.02")));
        // Known: rd 10 + growth 20 + debt 10 + field 5 + share 20 = 65 → met whatever the IP.
        let c = b.check(&input).unwrap();
        let card = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
        assert_eq!((card.points_min, card.points_max), (d("65"), d("85")));
        // But the innovation floor (≥ 20) depends on the IP: 10 known + up to 20.
        let t = tier(&c, Tier::InnovativeSme);
        assert_eq!(t.verdict, Verdict::Unknown);
        assert!(t.missing.contains(&"sme.ip_best_class".to_owned()), "{:?}", t.missing);
        // A direct-entry condition settles it regardless.
        input.equity_financings = Some(vec![EquityFinancing {
            paid_in_on: date("2024-01-01"),
            amount: d("5000000"),
            by_qualified_institution: true,
            ..EquityFinancing::default()
        }]);
        let c = b.check(&input).unwrap();
        assert_eq!(tier(&c, Tier::InnovativeSme).verdict, Verdict::Met);
    }

    #[test]
    fn provincial_srdi_conditions_at_boundaries() {
        let b = book();
        type Setter = fn(&mut ReadinessInput, Decimal);
        let niche: Setter = |i, x| i.sme.niche_market_years = Some(x);
        let rd_amount: Setter = |i, x| set_latest(i, |y| y.rd_expense = Some(x));
        let revenue: Setter = |i, x| {
            set_latest(i, |y| {
                y.revenue = Some(x);
                y.main_business_revenue = Some(x);
                y.rd_expense = Some(x * d("0.05"));
            })
        };
        // (condition, setter, value, expected)
        let cases: &[(&str, Setter, &str, Verdict)] = &[
            ("srdi_niche", niche, "2", Verdict::Met),
            ("srdi_niche", niche, "1.99", Verdict::NotMet),
            ("srdi_rd", rd_amount, "1000000", Verdict::NotMet), // 1,000,000 / 150,000,000 < 3%
            ("srdi_rd", rd_amount, "4500000", Verdict::Met),    // exactly 3%
            ("srdi_rd", rd_amount, "4499999", Verdict::NotMet),
            ("srdi_scale", revenue, "10000000", Verdict::Met),
            ("srdi_scale", revenue, "9999999", Verdict::NotMet),
        ];
        for (code, set, x, expected) in cases {
            let mut input = strong();
            set(&mut input, d(x));
            let c = b.check(&input).unwrap();
            let r = condition(tier(&c, Tier::ProvincialSrdi), code);
            assert_eq!(r.verdict, *expected, "{code} at {x}: {r:#?}");
        }
        // R&D amount floor of 100万 with a small revenue: 100万 / 2,000万 = 5%.
        let mut input = strong();
        set_latest(&mut input, |y| {
            y.revenue = Some(d("20000000"));
            y.rd_expense = Some(d("1000000"));
        });
        let c = b.check(&input).unwrap();
        assert_eq!(condition(tier(&c, Tier::ProvincialSrdi), "srdi_rd").verdict, Verdict::Met);
        set_latest(&mut input, |y| y.rd_expense = Some(d("999999")));
        let c = b.check(&input).unwrap();
        assert_eq!(condition(tier(&c, Tier::ProvincialSrdi), "srdi_rd").verdict, Verdict::NotMet);
        // Below 1,000万 revenue, 2,000万 of institutional financing in 2 years replaces it.
        let mut input = strong();
        revenue(&mut input, d("9000000"));
        input.equity_financings = Some(vec![EquityFinancing {
            paid_in_on: date("2023-07-01"),
            amount: d("20000000"),
            by_qualified_institution: true,
            ..EquityFinancing::default()
        }]);
        let c = b.check(&input).unwrap();
        assert_eq!(condition(tier(&c, Tier::ProvincialSrdi), "srdi_scale").verdict, Verdict::Met);
        // Paid in 2023-06-30 is outside the 24 months before 2025-06-30.
        input.equity_financings.as_mut().unwrap()[0].paid_in_on = date("2023-06-30");
        let c = b.check(&input).unwrap();
        assert_eq!(condition(tier(&c, Tier::ProvincialSrdi), "srdi_scale").verdict, Verdict::NotMet);
    }

    #[test]
    fn srdi_rd_input_takes_the_better_of_amount_and_ratio() {
        let b = book();
        let mut input = strong();
        // 300万 (6 points by amount) on 150,000,000 revenue = 2% (0 by ratio) → 6.
        set_latest(&mut input, |y| y.rd_expense = Some(d("3000000")));
        let c = b.check(&input).unwrap();
        assert_eq!(indicator(&c, "provincial_srdi", "rd_input").points, Some(d("6")));
        // 200万 on 20,000,000 = 10% → 10 by ratio beats 4 by amount.
        set_latest(&mut input, |y| {
            y.revenue = Some(d("20000000"));
            y.rd_expense = Some(d("2000000"));
        });
        let c = b.check(&input).unwrap();
        assert_eq!(indicator(&c, "provincial_srdi", "rd_input").points, Some(d("10")));
    }

    #[test]
    fn little_giant_groups() {
        let b = book();
        // Requires the provincial title.
        let mut input = strong();
        input.tier = Some(Tier::InnovativeSme);
        let c = b.check(&input).unwrap();
        assert_eq!(tier(&c, Tier::LittleGiant).verdict, Verdict::NotMet);
        assert_eq!(c.highest_met, Some(Tier::ProvincialSrdi));

        type Setter = fn(&mut ReadinessInput, Decimal);
        let niche: Setter = |i, x| i.sme.niche_market_years = Some(x);
        let share: Setter = |i, x| i.sme.national_niche_market_share = Some(x);
        let debt: Setter = |i, x| set_latest(i, |y| y.total_liabilities = Some(y.total_assets.unwrap() * x / d("100")));
        let mb_share: Setter =
            |i, x| set_latest(i, |y| y.main_business_revenue = Some(y.revenue.unwrap() * x / d("100")));
        let cases: &[(&str, Setter, &str, Verdict)] = &[
            ("lg_specialisation", niche, "3", Verdict::Met),
            ("lg_specialisation", niche, "2.99", Verdict::NotMet),
            ("lg_refinement", debt, "70", Verdict::Met),
            ("lg_refinement", debt, "70.01", Verdict::NotMet),
            ("lg_distinctiveness", share, "10", Verdict::Met),
            ("lg_distinctiveness", share, "9.99", Verdict::NotMet),
        ];
        for (code, set, x, expected) in cases {
            let mut input = strong();
            set(&mut input, d(x));
            let c = b.check(&input).unwrap();
            let r = condition(tier(&c, Tier::LittleGiant), code);
            assert_eq!(r.verdict, *expected, "{code} at {x}: {r:#?}");
        }
        // Main-business share 70% exactly passes; growth average must stay ≥ 5%, so keep revenue.
        let mut input = strong();
        mb_share(&mut input, d("70"));
        let c = b.check(&input).unwrap();
        let spec = condition(tier(&c, Tier::LittleGiant), "lg_specialisation");
        let share = spec.criteria.iter().find(|c| c.name == "main_business_share").unwrap();
        assert_eq!(share.verdict, Verdict::Met);
    }

    #[test]
    fn little_giant_rd_intensity_by_size() {
        let b = book();
        let innovation = |input: &ReadinessInput| {
            let c = b.check(input).unwrap();
            condition(tier(&c, Tier::LittleGiant), "lg_innovation").clone()
        };
        let set_rd = |input: &mut ReadinessInput, revenue: &str, ratio: &str| {
            for y in input.financials.iter_mut().filter(|y| y.fiscal_year >= 2023) {
                y.revenue = Some(d(revenue));
                y.main_business_revenue = Some(d(revenue));
                y.rd_expense = Some(d(revenue) * d(ratio) / d("100"));
            }
        };
        // ≥ 1亿 revenue: 3% each year.
        let mut input = strong();
        set_rd(&mut input, "100000000", "3");
        let r = innovation(&input);
        assert_eq!((r.verdict, r.variant.as_deref()), (Verdict::Met, Some("large")));
        set_rd(&mut input, "100000000", "2.99");
        assert_eq!(innovation(&input).verdict, Verdict::NotMet);
        // 5,000万–1亿: 6% each year.
        set_rd(&mut input, "99999999", "6");
        let r = innovation(&input);
        assert_eq!((r.verdict, r.variant.as_deref()), (Verdict::Met, Some("medium")));
        set_rd(&mut input, "50000000", "5.99");
        assert_eq!(innovation(&input).verdict, Verdict::NotMet);
        // Below 5,000万: financing ≥ 8,000万, R&D ≥ 3,000万 over 2 years, R&D staff ≥ 50%.
        set_rd(&mut input, "49999999", "10");
        for y in input.financials.iter_mut().filter(|y| y.fiscal_year >= 2023) {
            y.rd_expense = Some(d("15000000"));
        }
        input.rd_staff_share = Some(d("50"));
        input.equity_financings = Some(vec![EquityFinancing {
            paid_in_on: date("2024-01-01"),
            amount: d("80000000"),
            by_qualified_institution: true,
            ..EquityFinancing::default()
        }]);
        let r = innovation(&input);
        assert_eq!((r.verdict, r.variant.as_deref()), (Verdict::Met, Some("small")), "{r:#?}");
        input.rd_staff_share = Some(d("49.99"));
        assert_eq!(innovation(&input).verdict, Verdict::NotMet);
        // The direct route: a national S&T award.
        input.attestations.insert("lg_national_st_award_top3_3y".to_owned(), true.into());
        let r = innovation(&input);
        assert_eq!((r.verdict, r.variant.as_deref()), (Verdict::Met, Some("direct_award")));
    }

    #[test]
    fn unasserted_qualitative_conditions_are_unknown() {
        let mut input = strong();
        input.attestations.clear();
        let c = book().check(&input).unwrap();
        let lg = tier(&c, Tier::LittleGiant);
        assert_eq!(lg.verdict, Verdict::Unknown);
        assert!(lg.missing.contains(&"attestation lg_own_brand".to_owned()), "{:?}", lg.missing);
    }

    /// An unknown yes/no indicator can only score one of its two values.
    #[test]
    fn an_unknown_yes_no_indicator_gives_its_possible_scores() {
        let b = book();
        let mut input = strong();
        no_direct(&mut input);
        input.sme.strategic_emerging_industry = None;
        input.sme.ip_best_class = Some(IpClass::NoIp);
        // Known: IP 0 + R&D 20 + growth 20 + debt 10 + share 20 = 70; the field gives 5 or 10.
        let c = b.check(&input).unwrap();
        let field = indicator(&c, "innovative_sme", "field");
        assert_eq!((field.points, field.possible_points.clone()), (None, vec![d("5"), d("10")]));
        let card = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
        assert_eq!((card.points_min, card.points_max), (d("75"), d("80")));
        // The total clears 60 whatever the answer, and the specialisation floor (≥ 15) too: met.
        assert_eq!(tier(&c, Tier::InnovativeSme).verdict, Verdict::Met);
        // Where the answer matters the verdict waits for it: share 50% scores 5, so
        // specialisation is 5 + {5, 10} = {10, 15} against the floor of 15.
        set_latest(&mut input, |y| {
            let revenue = y.main_business_revenue.unwrap() * d("2");
            y.revenue = Some(revenue);
            y.rd_expense = Some(revenue * d("0.05"));
        });
        let c = b.check(&input).unwrap();
        let t = tier(&c, Tier::InnovativeSme);
        assert_eq!(t.verdict, Verdict::Unknown);
        assert!(t.missing.contains(&"sme.strategic_emerging_industry".to_owned()), "{:?}", t.missing);
        // A banded indicator with its input missing can score any band or nothing.
        let mut input = strong();
        input.sme.digitalisation_level = None;
        let c = b.check(&input).unwrap();
        let digital = indicator(&c, "provincial_srdi", "digitalisation");
        assert_eq!(digital.possible_points, vec![d("0"), d("3"), d("5")]);
    }

    /// Every band edge of the 专精特新 indicators that read the recorded tier inputs, and every
    /// value of the categorical ones.
    #[test]
    fn provincial_srdi_indicators_of_the_tier_inputs_at_boundaries() {
        type Setter = fn(&mut SmeExtras, Decimal);
        let niche: Setter = |e, x| e.niche_market_years = Some(x);
        let digital: Setter = |e, x| e.digitalisation_level = Some(x.to_string().parse().unwrap());
        let quality: Setter = |e, x| e.quality_items = Some(x.to_string().parse().unwrap());
        let operation: Setter = |e, x| e.innovative_operation_items = Some(x.to_string().parse().unwrap());
        // (indicator, setter, value, points)
        let cases: &[(&str, Setter, &str, &str)] = &[
            ("niche_years", niche, "10", "5"),
            ("niche_years", niche, "9.99", "4"),
            ("niche_years", niche, "8", "4"),
            ("niche_years", niche, "6", "3"),
            ("niche_years", niche, "4", "2"),
            ("niche_years", niche, "2", "1"),
            ("niche_years", niche, "1.99", "0"),
            ("digitalisation", digital, "4", "5"),
            ("digitalisation", digital, "3", "5"),
            ("digitalisation", digital, "2", "3"),
            ("digitalisation", digital, "1", "0"),
            ("quality", quality, "4", "5"),
            ("quality", quality, "2", "5"),
            ("quality", quality, "1", "3"),
            ("quality", quality, "0", "0"),
            ("innovative_operation", operation, "6", "4"),
            ("innovative_operation", operation, "2", "4"),
            ("innovative_operation", operation, "1", "2"),
            ("innovative_operation", operation, "0", "0"),
        ];
        let b = book();
        for (name, set, x, points) in cases {
            let mut input = strong();
            set(&mut input.sme, d(x));
            let c = b.check(&input).unwrap();
            assert_eq!(indicator(&c, "provincial_srdi", name).points, Some(d(points)), "{name} at {x}");
        }
        // Categorical inputs: each value's points, as the sheet gives them.
        type Choice = fn(&mut SmeExtras, &str);
        type ValuePoints = &'static [(&'static str, &'static str)];
        let choices: &[(&str, Choice, ValuePoints)] = &[
            (
                "ip",
                |e, v| e.ip_best_class = Some(v.parse().unwrap()),
                &[
                    ("high_value_class_i", "10"),
                    ("self_developed_class_i", "8"),
                    ("class_i", "6"),
                    ("class_ii", "2"),
                    ("no_ip", "0"),
                ],
            ),
            (
                "rd_institution",
                |e, v| e.rd_institution_level = Some(v.parse().unwrap()),
                &[
                    ("national", "10"),
                    ("provincial", "8"),
                    ("municipal", "4"),
                    ("below_municipal", "2"),
                    ("no_institution", "0"),
                ],
            ),
            (
                "product_field",
                |e, v| e.product_chain_role = Some(v.parse().unwrap()),
                &[("fills_chain_gap", "5"), ("basic_or_key_supplier", "3"), ("other", "0")],
            ),
            (
                "key_industry",
                |e, v| e.provincial_key_industry = Some(v.parse().unwrap()),
                &[
                    ("provincial_plan_and_chain", "4"),
                    ("provincial_plan", "3"),
                    ("city_key", "2"),
                    ("county_key", "1"),
                    ("not_key", "0"),
                ],
            ),
            (
                "niche_share",
                |e, v| e.niche_share_rank = Some(v.parse().unwrap()),
                &[
                    ("national_top3", "4"),
                    ("national_top10_or_provincial_top3", "3"),
                    ("provincial_top10", "2"),
                    ("below", "0"),
                ],
            ),
        ];
        for (name, set, values) in choices {
            for (value, points) in *values {
                let mut input = strong();
                set(&mut input.sme, value);
                let c = b.check(&input).unwrap();
                assert_eq!(indicator(&c, "provincial_srdi", name).points, Some(d(points)), "{name} = {value}");
            }
        }
    }

    /// The 2025 round (工信厅企业函〔2025〕190号) applies from 2025-05-14 only.
    #[test]
    fn the_2025_round_rules_apply_from_their_date() {
        let b = book();
        let lg = |input: &ReadinessInput| tier(&b.check(input).unwrap(), Tier::LittleGiant).clone();
        let codes = |t: &TierResult| t.conditions.iter().map(|c| c.code.clone()).collect::<Vec<_>>();
        // (date, revenue, verdict of the revenue floor: None when the condition is not in force)
        let cases: &[(&str, &str, Option<Verdict>)] = &[
            ("2025-05-13", "49999999.99", None),
            ("2025-05-14", "49999999.99", Some(Verdict::NotMet)),
            ("2025-05-14", "50000000", Some(Verdict::Met)),
            ("2025-12-31", "50000000.01", Some(Verdict::Met)),
        ];
        for (on, revenue, expected) in cases {
            let mut input = strong();
            input.evaluation_date = date(on);
            set_latest(&mut input, |y| {
                let share = y.main_business_revenue.unwrap() / y.revenue.unwrap();
                y.revenue = Some(d(revenue));
                y.main_business_revenue = Some(d(revenue) * share);
                y.rd_expense = Some(d(revenue) * d("0.08"));
            });
            let t = lg(&input);
            let floor = t.conditions.iter().find(|c| c.code == "lg_2025_round_revenue").map(|c| c.verdict);
            assert_eq!(floor, *expected, "{on} {revenue}: {:?}", codes(&t));
            let before = *on < "2025-05-14";
            assert_eq!(codes(&t).iter().any(|c| *c == "lg_growth"), before, "{on}");
            assert_eq!(codes(&t).iter().any(|c| *c == "lg_growth_2025_round"), !before, "{on}");
        }
        // Renewals are spared the growth test in the 2025 round; new applicants are not.
        let mut input = strong();
        for y in &mut input.financials {
            y.main_business_revenue = Some(d("95000000"));
        }
        let growth = |t: &TierResult| t.conditions.iter().find(|c| c.code == "lg_growth_2025_round").unwrap().verdict;
        assert_eq!(growth(&lg(&input)), Verdict::NotMet);
        input.tier = Some(Tier::LittleGiant);
        assert_eq!(growth(&lg(&input)), Verdict::Met);
        // Single champions and members of a group with a 小巨人 are outside the round.
        input.attestations.insert("lg_not_single_champion_or_group_member".to_owned(), false.into());
        let t = lg(&input);
        assert_eq!(t.verdict, Verdict::NotMet);
        let exclusion = t.conditions.iter().find(|c| c.code == "lg_2025_round_exclusions").unwrap();
        assert_eq!(exclusion.verdict, Verdict::NotMet);
    }

    /// Shandong item 12 comes from the registry's listing record.
    #[test]
    fn listing_progress_is_derived_from_the_listing_record() {
        use crate::domain::firm::Venue;
        use crate::domain::listing_stage::{ListingStage, Progress};
        use crate::domain::readiness::{ListingProgress, listing_progress_of};
        let at = |venue: Venue, stage: ListingStage| Progress {
            venue,
            current: Some(stage),
            current_layer: None,
            since: None,
            history: Vec::new(),
            allowed_next: Vec::new(),
            issues: Vec::new(),
        };
        let on = date("2025-06-30");
        let cases: &[(Vec<Progress>, Option<&str>, ListingProgress)] = &[
            (vec![], None, ListingProgress::NoProgress),
            (vec![at(Venue::Bse, ListingStage::TutoringFiled)], None, ListingProgress::NoProgress),
            (vec![at(Venue::Bse, ListingStage::ApplicationAccepted)], None, ListingProgress::RegionalOrApplied),
            (
                vec![at(Venue::RegionalSrdiBoard, ListingStage::RegionalListed)],
                None,
                ListingProgress::RegionalOrApplied,
            ),
            (vec![at(Venue::Neeq, ListingStage::NeeqAccepted)], None, ListingProgress::RegionalOrApplied),
            (vec![at(Venue::Neeq, ListingStage::NeeqListed)], None, ListingProgress::ListedOrNeeq),
            (vec![at(Venue::Star, ListingStage::Listed)], None, ListingProgress::ListedOrNeeq),
            (vec![], Some("2020-01-01"), ListingProgress::ListedOrNeeq),
            (vec![], Some("2025-07-01"), ListingProgress::NoProgress),
        ];
        for (progress, neeq, expected) in cases {
            assert_eq!(listing_progress_of(progress, neeq.map(date), on), *expected, "{progress:?} {neeq:?}");
        }
    }

    /// The scoring inputs recorded for the latest fiscal year take a firm to 专精特新 and 小巨人.
    #[test]
    fn recorded_tier_inputs_of_the_latest_year_are_used() {
        use crate::domain::firm_inputs::{
            AttestationSource, AttestationStatement, FirmRecords, InputSource, TierInputs,
        };
        use crate::domain::readiness::{ListingProgress, NicheShareRank, ProvincialKeyIndustry};
        let base = strong();
        let firm = crate::domain::firm_inputs::test_firm(Some(Tier::ProvincialSrdi), "2010-01-01", false);
        let inputs = |fy: i32| TierInputs {
            fiscal_year: fy,
            ip_best_class: Some(IpClass::HighValueClassI),
            class_i_ip_in_use: Some(5),
            strategic_emerging_industry: Some(true),
            niche_market_years: Some(d("12")),
            product_chain_role: Some(ProductChainRole::FillsChainGap),
            digitalisation_level: Some(3),
            quality_items: Some(3),
            rd_institution_level: Some(RdInstitutionLevel::National),
            national_niche_market_share: Some(d("15")),
            provincial_key_industry: Some(ProvincialKeyIndustry::ProvincialPlanAndChain),
            innovative_operation_items: Some(2),
            niche_share_rank: Some(NicheShareRank::NationalTop3),
            cloud_migrated: Some(true),
            key_chain_supplier: Some(true),
            source: Some(InputSource::Office),
        };
        let attestations = base
            .attestations
            .iter()
            .map(|(k, a)| AttestationStatement {
                id: uuid::Uuid::now_v7(),
                key: k.clone(),
                holds: a.holds,
                stated_on: date("2025-01-10"),
                valid_until: None,
                document_ref: None,
                remark: None,
                source: AttestationSource::Office,
                recorded_at: chrono::Utc::now(),
            })
            .collect();
        let mut records = FirmRecords {
            equity_financings: Some(Default::default()),
            attestations,
            tier_inputs: vec![inputs(2023)],
            ..FirmRecords::default()
        };
        let check = |records: &FirmRecords| {
            let mut input = ReadinessInput::from_records(&firm, base.financials.clone(), records, base.evaluation_date);
            input.sme.listing_progress = Some(ListingProgress::NoProgress);
            book().check(&input).unwrap()
        };
        // Only 2023 is on record: the 2024 scoring inputs are unknown.
        let c = check(&records);
        assert_eq!(tier(&c, Tier::ProvincialSrdi).verdict, Verdict::Unknown);
        records.tier_inputs.push(inputs(2024));
        let c = check(&records);
        assert_eq!(tier(&c, Tier::ProvincialSrdi).verdict, Verdict::Met, "{:#?}", tier(&c, Tier::ProvincialSrdi));
        assert_eq!(tier(&c, Tier::LittleGiant).verdict, Verdict::Met, "{:#?}", tier(&c, Tier::LittleGiant));
        assert_eq!(c.highest_met, Some(Tier::LittleGiant));
    }

    #[test]
    fn openapi_schemas_generate() {
        use utoipa::OpenApi;
        #[derive(OpenApi)]
        #[openapi(components(schemas(TierCheck, TierScheme)))]
        struct Doc;
        let json = Doc::openapi().to_json().unwrap();
        assert!(json.contains("\"IndicatorResult\"") && json.contains("\"Scorecard\""));
    }

    #[test]
    fn validate_names_the_field() {
        let mut s = builtin_tier_schemes().unwrap().remove(0);
        s.scorecards[0].categories[1].max_points = d("31");
        let e = s.validate().unwrap_err();
        assert_eq!(e.path, "scorecards[0].categories[1].max_points");

        let mut s = builtin_tier_schemes().unwrap().remove(0);
        s.scorecards[0].categories[0].indicators[1].measures[0].bands[0].points = d("21");
        let e = s.validate().unwrap_err();
        assert_eq!(e.path, "scorecards[0].categories[0].indicators[1].measures[0].bands[0].points");

        let mut s = builtin_tier_schemes().unwrap().remove(0);
        s.scorecards[0].categories[0].indicators[1].measures[0].aggregate = None;
        let e = s.validate().unwrap_err();
        assert_eq!(e.path, "scorecards[0].categories[0].indicators[1].measures[0].aggregate");

        let json = include_str!("../../rules/listing/sme-tier-miit-2022-08-01.json").replacen(
            "\"score\": \"innovative_sme\"",
            "\"score\": \"no_such_card\"",
            1,
        );
        let e = parse_tier_scheme(&json).unwrap_err();
        assert!(e.path.ends_with(".score"), "{e}");

        let s = builtin_tier_schemes().unwrap().remove(0);
        let mut later = s.clone();
        later.version = "overlapping".to_owned();
        let e = TierBook::new(vec![s, later]).unwrap_err();
        assert_eq!(e.path, "[1].effective_from");
    }
}
