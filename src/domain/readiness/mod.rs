//! Listing readiness: which listing standards a firm meets on a date, criterion by criterion.
//!
//! The standards are data (`RuleSet`, JSON under `rules/listing/`, embedded as the defaults),
//! versioned by effective dates; a `RuleBook` holds the versions and picks, per venue and scope,
//! the one in force on the evaluation date (`effective_from <= date < effective_to`). The
//! evaluator is pure: no clock, no I/O. Correcting a figure is a data edit: build a new
//! `RuleBook` from the edited sets (`RuleSet::validate` names the offending field).
//!
//! Semantics:
//! * A venue is `eligible` when all its entry conditions are met (BSE: NEEQ innovation layer and
//!   12 months; STAR: 科创属性; ChiNext: positioning and industry list) and at least one
//!   financial standard is. A standard with variants (BSE 1 (a)/(b)…) is met by any variant.
//! * Verdicts are three-valued; `unknown` means data is missing and `missing` names it
//!   (`"net_profit_deducted 2024"`, `"expected_market_value"`, `"attestation star5_…"`). A known
//!   failing year decides an "each year" criterion even when another year is missing.
//! * The latest fiscal year is the calendar year before the evaluation date (or an earlier
//!   `latest_fiscal_year` given in the input); windows are the consecutive years ending there.
//! * Net-profit criteria use the lower of `net_profit` and `net_profit_deducted` (扣非前后孰低)
//!   and say so in their note. Ratios over a window are sums over sums (R&D ÷ revenue). Growth
//!   or CAGR from a base that is not positive is undefined, hence `not_met` with a note.
//! * All arithmetic is `Decimal`; comparisons are exact (cross-multiplied), only shown values
//!   are rounded (4 decimal places for derived figures).
//! * When not eligible, `closest_standard` is the standard with the fewest criteria not yet met,
//!   then the smallest summed relative shortfall (unknown counts as a full miss), with its gaps
//!   and the data to collect.

mod eval;
pub mod input;
pub mod rules;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::domain::firm::{Venue, vocabulary};

pub(crate) use eval::{Ctx, ScoreRange, all_of, any_of, criteria_rank, relative_shortfall};
pub use input::{
    Attested, ChoiceInput, EquityFinancing, IpClass, LatestYearBasis, ListingProgress, NicheShareRank,
    ProductChainRole, ProvincialKeyIndustry, RdInstitutionLevel, ReadinessInput, SmeExtras, listing_progress_of,
};
pub(crate) use rules::collect_attestation_keys;
pub use rules::{
    Aggregate, AttestationKey, Comparison, Confidence, Criterion, Fact, Metric, RuleScope, RuleSet, RuleSetError,
    SourceNote, Standard, Unit, Variant,
};
pub(crate) use rules::{CompileCtx, CompiledCriterion, CompiledStandard, compile_standard};
use rules::{CompiledRuleSet, compile_rule_set, err};

vocabulary!(
    /// Outcome of a criterion, a standard or a venue.
    Verdict {
        Met = "met" / "符合",
        NotMet = "not_met" / "不符合",
        Unknown = "unknown" / "数据不足，无法判断",
    }
);

/// Immutable text from the rule data (codes, labels, notes), shared between the rule book and
/// every result built from it: evaluating a firm copies a pointer, not the text. Serialized as a
/// plain JSON string.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(Arc<str>);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Arc::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Arc::from(s))
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Text::from)
    }
}

/// Consecutive fiscal years a criterion read (every window is a run of consecutive years, so
/// two numbers hold it without an allocation). Serialized as the list of years, e.g. `[2023, 2024]`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FiscalYears {
    first: i32,
    /// Years counted from `first`; 0 for none.
    count: u8,
}

impl FiscalYears {
    pub fn one(year: i32) -> Self {
        FiscalYears { first: year, count: 1 }
    }

    /// `first..=last`; empty when `last < first`.
    pub fn span(first: i32, last: i32) -> Self {
        let count = u8::try_from(i64::from(last) - i64::from(first) + 1).unwrap_or(0);
        FiscalYears { first, count }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn iter(&self) -> impl Iterator<Item = i32> + use<> {
        (0..i32::from(self.count)).map({
            let first = self.first;
            move |i| first + i
        })
    }

    pub fn to_vec(&self) -> Vec<i32> {
        self.iter().collect()
    }
}

impl std::fmt::Debug for FiscalYears {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq<Vec<i32>> for FiscalYears {
    fn eq(&self, other: &Vec<i32>) -> bool {
        self.iter().eq(other.iter().copied())
    }
}

impl Serialize for FiscalYears {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for FiscalYears {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let years = Vec::<i32>::deserialize(d)?;
        let span = match (years.first(), years.last()) {
            (Some(first), Some(last)) => FiscalYears::span(*first, *last),
            _ => FiscalYears::default(),
        };
        if span != years {
            return Err(serde::de::Error::custom("fiscal_years must be consecutive ascending years (at most 255)"));
        }
        Ok(span)
    }
}

/// One criterion as evaluated. `actual` is the value compared (for "each year" criteria, the
/// weakest year's); `shortfall` is how far it is from the threshold when not met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CriterionResult {
    #[schema(value_type = String)]
    pub name: Text,
    #[schema(value_type = String)]
    pub label_zh: Text,
    pub verdict: Verdict,
    #[schema(value_type = Option<String>)]
    pub actual: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub threshold: Option<Decimal>,
    pub comparison: Option<Comparison>,
    pub unit: Option<Unit>,
    #[schema(value_type = Option<String>)]
    pub shortfall: Option<Decimal>,
    #[schema(value_type = Vec<i32>)]
    pub fiscal_years: FiscalYears,
    /// What is missing when the verdict is `unknown`, as `"field year"` (e.g. `"net_profit_deducted 2024"`).
    pub missing: Vec<String>,
    #[schema(value_type = Option<String>)]
    pub note: Option<Text>,
    pub confidence: Option<Confidence>,
    /// For a criterion decided by an attestation: who stated it, when, and on what document.
    /// `source: self_declared` marks a firm's own statement the office has not confirmed.
    pub attestation: Option<AttestationUsed>,
    /// The alternatives of an "any of" criterion; empty otherwise.
    #[schema(no_recursion)]
    pub any_of: Vec<CriterionResult>,
}

/// The attestation a criterion's verdict rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationUsed {
    pub source: crate::domain::firm_inputs::AttestationSource,
    pub stated_on: Option<NaiveDate>,
    pub document_ref: Option<String>,
}

/// One way of meeting a standard, as evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VariantResult {
    #[schema(value_type = String)]
    pub variant: Text,
    #[schema(value_type = Option<String>)]
    pub label_zh: Option<Text>,
    pub verdict: Verdict,
    pub criteria: Vec<CriterionResult>,
}

/// A standard as evaluated: its verdict and the criteria of its best variant (met, or else the
/// closest); the remaining variants of a multi-variant standard follow in `other_variants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StandardResult {
    #[schema(value_type = String)]
    pub code: Text,
    #[schema(value_type = String)]
    pub label_zh: Text,
    pub verdict: Verdict,
    #[schema(value_type = Option<String>)]
    pub variant: Option<Text>,
    pub criteria: Vec<CriterionResult>,
    pub other_variants: Vec<VariantResult>,
    pub confidence: Option<Confidence>,
    #[schema(value_type = Option<String>)]
    pub note: Option<Text>,
}

/// A criterion that is not met, with its gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Gap {
    #[schema(value_type = String)]
    pub criterion: Text,
    #[schema(value_type = String)]
    pub label_zh: Text,
    #[schema(value_type = Option<String>)]
    pub actual: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub threshold: Option<Decimal>,
    pub comparison: Option<Comparison>,
    #[schema(value_type = Option<String>)]
    pub shortfall: Option<Decimal>,
    pub unit: Option<Unit>,
}

/// The standard a firm that is not eligible comes closest to, and what it lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClosestStandard {
    #[schema(value_type = String)]
    pub code: Text,
    #[schema(value_type = Option<String>)]
    pub variant: Option<Text>,
    pub verdict: Verdict,
    pub not_met: Vec<Gap>,
    /// Criteria that cannot be decided yet.
    #[schema(value_type = Vec<String>)]
    pub unknown: Vec<Text>,
    /// Data to collect, as `"field year"`.
    pub missing: Vec<String>,
    /// Entry conditions not met or unknown (they block eligibility whatever the standard).
    #[schema(value_type = Vec<String>)]
    pub blocking_entry_conditions: Vec<Text>,
}

/// Readiness for one venue (and, for NEEQ, one scope: listing or innovation-layer entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VenueReadiness {
    pub venue: Venue,
    pub scope: RuleScope,
    #[schema(value_type = String)]
    pub rule_set_version: Text,
    pub rule_set_effective_from: NaiveDate,
    pub rule_set_confidence: Confidence,
    pub evaluated_on: NaiveDate,
    pub latest_fiscal_year: i32,
    /// `audited`: the latest year audited by the evaluation date; `assumed`: no audit dates are
    /// recorded, so the calendar year before the evaluation date; `given`: set by the caller.
    pub latest_fiscal_year_basis: LatestYearBasis,
    pub verdict: Verdict,
    pub eligible: bool,
    /// Standards met, listed only when the entry conditions are met too.
    #[schema(value_type = Vec<String>)]
    pub eligible_standards: Vec<Text>,
    pub closest_standard: Option<ClosestStandard>,
    pub entry_conditions: Vec<StandardResult>,
    pub standards: Vec<StandardResult>,
}

/// No rule set of this venue and scope is in force on the date (e.g. BSE before 2021-11-15).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {venue} {scope} rule set in force on {date}")]
pub struct NoRuleSetInForce {
    pub venue: Venue,
    pub scope: RuleScope,
    pub date: NaiveDate,
}

/// The default rule data, embedded at build time. The service seeds its database from it.
const BUILTIN: &[(&str, &str)] = &[
    ("bse-2021-11-15.json", include_str!("../../../rules/listing/bse-2021-11-15.json")),
    ("star-2021-04-16.json", include_str!("../../../rules/listing/star-2021-04-16.json")),
    ("star-2024-04-30.json", include_str!("../../../rules/listing/star-2024-04-30.json")),
    ("chinext-2020-06-12.json", include_str!("../../../rules/listing/chinext-2020-06-12.json")),
    ("chinext-2024-04-30.json", include_str!("../../../rules/listing/chinext-2024-04-30.json")),
    ("neeq-listing-2023-02-17.json", include_str!("../../../rules/listing/neeq-listing-2023-02-17.json")),
    (
        "neeq-innovation-layer-2023-02-17.json",
        include_str!("../../../rules/listing/neeq-innovation-layer-2023-02-17.json"),
    ),
    ("regional-srdi-board-2022-11-21.json", include_str!("../../../rules/listing/regional-srdi-board-2022-11-21.json")),
];

/// Parses one rule set from JSON and validates it.
pub fn parse_rule_set(json: &str) -> Result<RuleSet, RuleSetError> {
    let set: RuleSet =
        serde_json::from_str(json).map_err(|e| RuleSetError { path: "$".to_owned(), message: e.to_string() })?;
    set.validate()?;
    Ok(set)
}

/// The embedded default rule sets, parsed and validated.
pub fn builtin_rule_sets() -> Result<Vec<RuleSet>, RuleSetError> {
    BUILTIN
        .iter()
        .map(|(file, json)| {
            parse_rule_set(json).map_err(|e| RuleSetError { path: format!("{file}: {}", e.path), message: e.message })
        })
        .collect()
}

/// A validated collection of rule-set versions.
#[derive(Debug, Clone)]
pub struct RuleBook {
    sets: Vec<CompiledRuleSet>,
}

impl RuleBook {
    /// Validates every set and rejects two versions of the same venue and scope whose periods
    /// overlap (the path then names the later set by index: `[3].effective_from`).
    pub fn new(sets: Vec<RuleSet>) -> Result<Self, RuleSetError> {
        let mut compiled = Vec::with_capacity(sets.len());
        for (i, set) in sets.iter().enumerate() {
            compiled.push(
                compile_rule_set(set)
                    .map_err(|e| RuleSetError { path: format!("[{i}].{}", e.path), message: e.message })?,
            );
        }
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[..i] {
                let same = a.venue == b.venue && a.scope == b.scope;
                let overlap = a.effective_to.is_none_or(|to| b.effective_from < to)
                    && b.effective_to.is_none_or(|to| a.effective_from < to);
                if same && overlap {
                    return err(
                        &format!("[{i}].effective_from"),
                        format!("{} overlaps {} for {} {}", a.version, b.version, a.venue, a.scope),
                    );
                }
            }
        }
        compiled.sort_by_key(|c| (c.set.venue, c.set.scope, c.set.effective_from));
        Ok(RuleBook { sets: compiled })
    }

    /// The embedded default rules.
    pub fn builtin() -> Result<Self, RuleSetError> {
        RuleBook::new(builtin_rule_sets()?)
    }

    pub fn rule_sets(&self) -> impl Iterator<Item = &RuleSet> {
        self.sets.iter().map(|c| &c.set)
    }

    /// Every attestation key some loaded rule set reads, with who may state it.
    pub fn attestation_keys(&self) -> std::collections::BTreeMap<String, AttestationKey> {
        let mut keys = std::collections::BTreeMap::new();
        for set in self.rule_sets() {
            collect_attestation_keys(set.entry_conditions.iter().chain(&set.standards), &set.version, &mut keys);
        }
        keys
    }

    pub fn rule_set_in_force(&self, venue: Venue, scope: RuleScope, date: NaiveDate) -> Option<&RuleSet> {
        self.select(venue, scope, date).map(|c| &c.set)
    }

    pub(crate) fn select(&self, venue: Venue, scope: RuleScope, date: NaiveDate) -> Option<&CompiledRuleSet> {
        self.sets.iter().find(|c| c.set.venue == venue && c.set.scope == scope && c.set.in_force_on(date))
    }

    /// Every venue and scope with a rule set in force on the evaluation date, in the order of
    /// `Venue::ALL` (listing before innovation layer).
    pub fn evaluate_all(&self, input: &ReadinessInput) -> Vec<VenueReadiness> {
        let ctx = Ctx::new(input, Some(self), &[]);
        let mut out = Vec::with_capacity(6);
        let mut exchange = Vec::new();
        for venue in Venue::ALL {
            for scope in RuleScope::ALL {
                let Some(set) = self.select(*venue, *scope, input.evaluation_date) else {
                    continue;
                };
                if *venue == Venue::RegionalSrdiBoard && *scope == RuleScope::Listing {
                    // The BSE/STAR/ChiNext results are already at hand; spare re-evaluating them.
                    ctx.set_exchange_verdict(any_of(exchange.iter().copied()));
                }
                let r = venue_readiness(set, &ctx);
                if matches!(venue, Venue::Bse | Venue::Star | Venue::Chinext) && *scope == RuleScope::Listing {
                    exchange.extend(r.standards.iter().map(|s| s.verdict));
                }
                out.push(r);
            }
        }
        out
    }

    /// All scopes of one venue (NEEQ has two: listing and innovation layer).
    pub fn evaluate_venue(
        &self,
        venue: Venue,
        input: &ReadinessInput,
    ) -> Result<Vec<VenueReadiness>, NoRuleSetInForce> {
        let ctx = Ctx::new(input, Some(self), &[]);
        let out: Vec<VenueReadiness> = RuleScope::ALL
            .iter()
            .filter_map(|scope| self.select(venue, *scope, input.evaluation_date))
            .map(|set| venue_readiness(set, &ctx))
            .collect();
        if out.is_empty() {
            Err(NoRuleSetInForce { venue, scope: RuleScope::Listing, date: input.evaluation_date })
        } else {
            Ok(out)
        }
    }

    pub fn evaluate(
        &self,
        venue: Venue,
        scope: RuleScope,
        input: &ReadinessInput,
    ) -> Result<VenueReadiness, NoRuleSetInForce> {
        let set = self.select(venue, scope, input.evaluation_date).ok_or(NoRuleSetInForce {
            venue,
            scope,
            date: input.evaluation_date,
        })?;
        Ok(venue_readiness(set, &Ctx::new(input, Some(self), &[])))
    }
}

fn venue_readiness(set: &CompiledRuleSet, ctx: &Ctx<'_>) -> VenueReadiness {
    let date = ctx.input.evaluation_date;
    let entry: Vec<StandardResult> =
        set.entry_conditions.iter().filter(|s| s.in_force_on(date)).map(|s| ctx.standard(s)).collect();
    let standards: Vec<StandardResult> =
        set.standards.iter().filter(|s| s.in_force_on(date)).map(|s| ctx.standard(s)).collect();
    let gates = all_of(entry.iter().map(|s| s.verdict));
    let financial = any_of(standards.iter().map(|s| s.verdict));
    let eligible = gates == Verdict::Met && financial == Verdict::Met;
    let eligible_standards = if gates == Verdict::Met {
        standards.iter().filter(|s| s.verdict == Verdict::Met).map(|s| s.code.clone()).collect()
    } else {
        Vec::new()
    };
    let closest_standard = if eligible { None } else { closest(&entry, &standards) };
    VenueReadiness {
        venue: set.set.venue,
        scope: set.set.scope,
        rule_set_version: set.version.clone(),
        rule_set_effective_from: set.set.effective_from,
        rule_set_confidence: set.set.confidence,
        evaluated_on: ctx.input.evaluation_date,
        latest_fiscal_year: ctx.latest,
        latest_fiscal_year_basis: ctx.input.latest_fiscal_year_and_basis().1,
        verdict: all_of([gates, financial].into_iter()),
        eligible,
        eligible_standards,
        closest_standard,
        entry_conditions: entry,
        standards,
    }
}

/// The standard with the fewest criteria not yet met (a met standard first, which happens when
/// only entry conditions block), then the smallest relative shortfall (see `criteria_rank`).
/// `missing` gathers what the standard and the blocking entry conditions lack.
fn closest(entry: &[StandardResult], standards: &[StandardResult]) -> Option<ClosestStandard> {
    let (_, best) = standards
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.verdict != Verdict::Met, criteria_rank(&s.criteria), i), s))
        .min_by(|a, b| a.0.cmp(&b.0))?;
    let mut not_met = Vec::new();
    let mut unknown = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for c in &best.criteria {
        match c.verdict {
            Verdict::Met => {}
            Verdict::Unknown => {
                unknown.push(c.name.clone());
                for m in &c.missing {
                    if !missing.contains(m) {
                        missing.push(m.clone());
                    }
                }
            }
            Verdict::NotMet => {
                // For an "any of" criterion, report its nearest alternative.
                let shown = c
                    .any_of
                    .iter()
                    .filter(|o| o.verdict == Verdict::NotMet)
                    .min_by_key(|o| relative_shortfall(o))
                    .unwrap_or(c);
                not_met.push(Gap {
                    criterion: if std::ptr::eq(shown, c) {
                        c.name.clone()
                    } else {
                        Text::from(format!("{}.{}", c.name, shown.name))
                    },
                    label_zh: shown.label_zh.clone(),
                    actual: shown.actual,
                    threshold: shown.threshold,
                    comparison: shown.comparison,
                    shortfall: shown.shortfall,
                    unit: shown.unit,
                });
            }
        }
    }
    let blocking: Vec<&StandardResult> = entry.iter().filter(|s| s.verdict != Verdict::Met).collect();
    for s in blocking.iter().filter(|s| s.verdict == Verdict::Unknown) {
        for c in s.criteria.iter().filter(|c| c.verdict == Verdict::Unknown) {
            for m in &c.missing {
                if !missing.contains(m) {
                    missing.push(m.clone());
                }
            }
        }
    }
    let blocking_entry_conditions = blocking.iter().map(|s| s.code.clone()).collect();
    Some(ClosestStandard {
        code: best.code.clone(),
        variant: best.variant.clone(),
        verdict: best.verdict,
        not_met,
        unknown,
        missing,
        blocking_entry_conditions,
    })
}
