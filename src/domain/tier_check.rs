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
mod tests;
