//! The typed form the evaluator runs (`Compiled*`) and the compiler from the serde shape: the
//! only place that decides which criterion key combinations are legal.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{
    Aggregate, Comparison, Confidence, Criterion, Fact, Metric, MetricKind, RuleSet, RuleSetError, Standard, Unit, err,
};
use crate::domain::readiness::Text;
use crate::domain::readiness::input::ChoiceInput;

#[derive(Debug, Clone)]
pub(crate) enum Quantity {
    Yearly { metric: Metric, over: Option<Metric>, aggregate: Aggregate, years: u8 },
    Current(Metric),
    Event { metric: Metric, months: u16 },
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    Compare { quantity: Quantity, op: Comparison, threshold: Decimal },
    Fact(Fact),
    Attestation(Text),
    IndustryNotIn(Vec<Text>),
    Choice { input: ChoiceInput, one_of: Vec<String> },
    Score { card: usize, category: Option<usize>, op: Comparison, threshold: Decimal },
    AnyOf(Vec<CompiledCriterion>),
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledCriterion {
    pub name: Text,
    pub label_zh: Text,
    /// Data note plus the notes the metric and aggregate always carry (扣非 rule, market-value
    /// estimate, how "each year" and CAGR read).
    pub note: Option<Text>,
    pub confidence: Option<Confidence>,
    pub unit: Option<Unit>,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledVariant {
    pub label: Text,
    pub label_zh: Option<Text>,
    pub criteria: Vec<CompiledCriterion>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledStandard {
    pub code: Text,
    pub label_zh: Text,
    pub effective_from: Option<NaiveDate>,
    pub effective_to: Option<NaiveDate>,
    pub confidence: Option<Confidence>,
    pub note: Option<Text>,
    /// A standard written with plain `criteria` has one variant labelled "".
    pub variants: Vec<CompiledVariant>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRuleSet {
    pub set: RuleSet,
    pub version: Text,
    pub entry_conditions: Vec<CompiledStandard>,
    pub standards: Vec<CompiledStandard>,
}

impl CompiledStandard {
    pub(crate) fn in_force_on(&self, date: NaiveDate) -> bool {
        self.effective_from.is_none_or(|f| f <= date) && self.effective_to.is_none_or(|t| date < t)
    }
}

/// Names of the scorecards (and their categories) a criterion may refer to with `score`.
/// Listing rule sets have none.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CompileCtx<'a> {
    pub scorecards: &'a [(&'a str, Vec<&'a str>)],
}

pub(crate) const LOWER_OF_NOTE: &str =
    "净利润以扣除非经常性损益前后孰低者为准 (lower of net_profit and net_profit_deducted, each year)";
pub(crate) const LOWER_OF_ROE_NOTE: &str =
    "加权平均净资产收益率以扣除非经常性损益前后孰低者为准 (lower of weighted_roe and weighted_roe_deducted, each year)";
const MARKET_VALUE_NOTE: &str =
    "预计市值为保荐机构估计值 (expected market value is the sponsor's estimate at the issue price, taken as input)";
const EACH_NOTE: &str =
    "每年均须满足；actual 为最弱一年的数值 (each year must pass; actual is the weakest year's value)";
const CAGR_NOTE: &str =
    "复合增长率以窗口首年为基期 (CAGR over years − 1 periods, the first fiscal year shown being the base)";
const EVENT_NOTE: &str =
    "计入评价日前该月数内实缴的融资 (financings paid in within that many months up to the evaluation date)";
const PER_SHARE_NOTE: &str =
    "每股净资产按股本总额折算，假定每股面值1元 (net assets ÷ share capital, assuming par value 1 yuan)";

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub(crate) fn compile_rule_set(set: &RuleSet) -> Result<CompiledRuleSet, RuleSetError> {
    if set.version.trim().is_empty() {
        return err("version", "must not be empty");
    }
    if set.title_zh.trim().is_empty() {
        return err("title_zh", "must not be empty");
    }
    if let Some(to) = set.effective_to
        && to <= set.effective_from
    {
        return err("effective_to", "must be after effective_from");
    }
    if set.sources.is_empty() {
        return err("sources", "at least one source note is required");
    }
    for (i, s) in set.sources.iter().enumerate() {
        if s.id.trim().is_empty() {
            return err(&format!("sources[{i}].id"), "must not be empty");
        }
    }
    if set.standards.is_empty() {
        return err("standards", "at least one standard is required");
    }
    let ctx = CompileCtx::default();
    let mut codes: Vec<&str> = Vec::new();
    let mut entry = Vec::with_capacity(set.entry_conditions.len());
    for (i, s) in set.entry_conditions.iter().enumerate() {
        entry.push(compile_standard(s, &format!("entry_conditions[{i}]"), &ctx, &mut codes)?);
    }
    let mut standards = Vec::with_capacity(set.standards.len());
    for (i, s) in set.standards.iter().enumerate() {
        standards.push(compile_standard(s, &format!("standards[{i}]"), &ctx, &mut codes)?);
    }
    Ok(CompiledRuleSet {
        set: set.clone(),
        version: Text::from(set.version.as_str()),
        entry_conditions: entry,
        standards,
    })
}

pub(crate) fn compile_standard<'s>(
    s: &'s Standard,
    path: &str,
    ctx: &CompileCtx<'_>,
    codes: &mut Vec<&'s str>,
) -> Result<CompiledStandard, RuleSetError> {
    if !is_code(&s.code) {
        return err(&format!("{path}.code"), "must be non-empty snake_case ([a-z0-9_])");
    }
    if codes.contains(&s.code.as_str()) {
        return err(&format!("{path}.code"), format!("duplicate code {}", s.code));
    }
    codes.push(&s.code);
    if s.label_zh.trim().is_empty() {
        return err(&format!("{path}.label_zh"), "must not be empty");
    }
    if let (Some(from), Some(to)) = (s.effective_from, s.effective_to)
        && to <= from
    {
        return err(&format!("{path}.effective_to"), "must be after effective_from");
    }
    let variants = match (&s.criteria, &s.variants) {
        (Some(criteria), None) => vec![CompiledVariant {
            label: Text::default(),
            label_zh: None,
            criteria: compile_criteria(criteria, &format!("{path}.criteria"), ctx)?,
        }],
        (None, Some(variants)) => {
            if variants.is_empty() {
                return err(&format!("{path}.variants"), "must not be empty");
            }
            let mut out = Vec::with_capacity(variants.len());
            for (i, v) in variants.iter().enumerate() {
                let vpath = format!("{path}.variants[{i}]");
                if !is_code(&v.label) {
                    return err(&format!("{vpath}.label"), "must be non-empty snake_case");
                }
                if variants[..i].iter().any(|o| o.label == v.label) {
                    return err(&format!("{vpath}.label"), format!("duplicate variant {}", v.label));
                }
                out.push(CompiledVariant {
                    label: Text::from(v.label.as_str()),
                    label_zh: v.label_zh.as_deref().map(Text::from),
                    criteria: compile_criteria(&v.criteria, &format!("{vpath}.criteria"), ctx)?,
                });
            }
            out
        }
        _ => return err(path, "exactly one of `criteria` or `variants` is required"),
    };
    Ok(CompiledStandard {
        code: Text::from(s.code.as_str()),
        label_zh: Text::from(s.label_zh.as_str()),
        effective_from: s.effective_from,
        effective_to: s.effective_to,
        confidence: s.confidence,
        note: s.note.as_deref().map(Text::from),
        variants,
    })
}

pub(crate) fn compile_criteria(
    criteria: &[Criterion],
    path: &str,
    ctx: &CompileCtx<'_>,
) -> Result<Vec<CompiledCriterion>, RuleSetError> {
    if criteria.is_empty() {
        return err(path, "at least one criterion is required");
    }
    let mut out = Vec::with_capacity(criteria.len());
    for (i, c) in criteria.iter().enumerate() {
        let cpath = format!("{path}[{i}]");
        if criteria[..i].iter().any(|o| o.name == c.name) {
            return err(&format!("{cpath}.name"), format!("duplicate criterion {}", c.name));
        }
        out.push(compile_criterion(c, &cpath, ctx, true)?);
    }
    Ok(out)
}

/// Which keys a criterion sets, to reject keys that do not belong to its kind.
fn present_keys(c: &Criterion) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let mut k = |set: bool, name: &'static str| {
        if set {
            keys.push(name);
        }
    };
    k(c.metric.is_some(), "metric");
    k(c.over.is_some(), "over");
    k(c.aggregate.is_some(), "aggregate");
    k(c.years.is_some(), "years");
    k(c.months.is_some(), "months");
    k(c.op.is_some(), "op");
    k(c.threshold.is_some(), "threshold");
    k(c.fact.is_some(), "fact");
    k(c.attestation.is_some(), "attestation");
    k(c.office_only.is_some(), "office_only");
    k(c.industry_not_in.is_some(), "industry_not_in");
    k(c.choice.is_some(), "choice");
    k(c.one_of.is_some(), "one_of");
    k(c.score.is_some(), "score");
    k(c.category.is_some(), "category");
    k(c.any_of.is_some(), "any_of");
    keys
}

fn only_keys(c: &Criterion, path: &str, allowed: &[&str]) -> Result<(), RuleSetError> {
    match present_keys(c).into_iter().find(|k| !allowed.contains(k)) {
        Some(extra) => err(&format!("{path}.{extra}"), format!("not allowed here (allowed: {})", allowed.join(", "))),
        None => Ok(()),
    }
}

fn required<T: Copy>(v: Option<T>, path: &str, key: &str) -> Result<T, RuleSetError> {
    match v {
        Some(v) => Ok(v),
        None => err(&format!("{path}.{key}"), "is required"),
    }
}

fn join_notes(data: Option<&str>, auto: &[&str]) -> Option<Text> {
    let parts: Vec<&str> = data.into_iter().chain(auto.iter().copied()).collect();
    if parts.is_empty() { None } else { Some(Text::from(parts.join("; "))) }
}

fn compile_criterion(
    c: &Criterion,
    path: &str,
    ctx: &CompileCtx<'_>,
    top_level: bool,
) -> Result<CompiledCriterion, RuleSetError> {
    if !is_code(&c.name) {
        return err(&format!("{path}.name"), "must be non-empty snake_case ([a-z0-9_])");
    }
    if c.label_zh.trim().is_empty() {
        return err(&format!("{path}.label_zh"), "must not be empty");
    }
    let kinds = [
        c.metric.is_some(),
        c.fact.is_some(),
        c.attestation.is_some(),
        c.industry_not_in.is_some(),
        c.choice.is_some(),
        c.score.is_some(),
        c.any_of.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return err(
            path,
            "exactly one of metric, fact, attestation, industry_not_in, choice, score, any_of is required",
        );
    }
    let mut auto_notes: Vec<&str> = Vec::new();
    let mut unit = None;
    let test = if let Some(metric) = c.metric {
        let op = required(c.op, path, "op")?;
        let threshold = required(c.threshold, path, "threshold")?;
        let quantity = match metric.kind() {
            MetricKind::Yearly => {
                only_keys(c, path, &["metric", "over", "aggregate", "years", "op", "threshold"])?;
                let aggregate = required(c.aggregate, path, "aggregate")?;
                let years = match aggregate {
                    Aggregate::Latest | Aggregate::Growth => {
                        if c.years.is_some() {
                            return err(&format!("{path}.years"), "not allowed with this aggregate");
                        }
                        1
                    }
                    Aggregate::Each | Aggregate::Sum | Aggregate::Average => {
                        bounded(required(c.years, path, "years")?, 1, 5, path)?
                    }
                    Aggregate::Cagr => bounded(required(c.years, path, "years")?, 2, 5, path)?,
                    Aggregate::EachGrowth | Aggregate::AverageGrowth => {
                        bounded(required(c.years, path, "years")?, 1, 4, path)?
                    }
                };
                if let Some(over) = c.over {
                    if over.kind() != MetricKind::Yearly {
                        return err(&format!("{path}.over"), "must be a yearly metric");
                    }
                    if !matches!(aggregate, Aggregate::Latest | Aggregate::Each | Aggregate::Sum | Aggregate::Average) {
                        return err(
                            &format!("{path}.aggregate"),
                            "a ratio (`over`) allows latest, each, sum or average only",
                        );
                    }
                    unit = Some(Unit::Percent);
                } else if matches!(
                    aggregate,
                    Aggregate::Growth | Aggregate::EachGrowth | Aggregate::AverageGrowth | Aggregate::Cagr
                ) {
                    unit = Some(Unit::Percent);
                } else {
                    unit = Some(metric.unit());
                }
                match metric {
                    Metric::NetProfitLower => auto_notes.push(LOWER_OF_NOTE),
                    Metric::WeightedRoeLower => auto_notes.push(LOWER_OF_ROE_NOTE),
                    _ => {}
                }
                match aggregate {
                    Aggregate::Each | Aggregate::EachGrowth => auto_notes.push(EACH_NOTE),
                    Aggregate::Cagr => auto_notes.push(CAGR_NOTE),
                    _ => {}
                }
                Quantity::Yearly { metric, over: c.over, aggregate, years }
            }
            MetricKind::Current => {
                only_keys(c, path, &["metric", "op", "threshold"])?;
                unit = Some(metric.unit());
                match metric {
                    Metric::ExpectedMarketValue => auto_notes.push(MARKET_VALUE_NOTE),
                    Metric::NetAssetsPerShare => auto_notes.push(PER_SHARE_NOTE),
                    _ => {}
                }
                Quantity::Current(metric)
            }
            MetricKind::Event => {
                only_keys(c, path, &["metric", "months", "op", "threshold"])?;
                let months = required(c.months, path, "months")?;
                if !(1..=120).contains(&months) {
                    return err(&format!("{path}.months"), "must be between 1 and 120");
                }
                unit = Some(Unit::Yuan);
                auto_notes.push(EVENT_NOTE);
                Quantity::Event { metric, months }
            }
        };
        Test::Compare { quantity, op, threshold }
    } else if let Some(fact) = c.fact {
        only_keys(c, path, &["fact"])?;
        Test::Fact(fact)
    } else if let Some(key) = &c.attestation {
        only_keys(c, path, &["attestation", "office_only"])?;
        if !is_code(key) {
            return err(&format!("{path}.attestation"), "must be non-empty snake_case");
        }
        Test::Attestation(Text::from(key.as_str()))
    } else if let Some(prefixes) = &c.industry_not_in {
        only_keys(c, path, &["industry_not_in"])?;
        if prefixes.is_empty() {
            return err(&format!("{path}.industry_not_in"), "must not be empty");
        }
        for (i, p) in prefixes.iter().enumerate() {
            let b = p.as_bytes();
            let ok = (1..=5).contains(&b.len()) && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit);
            if !ok {
                return err(
                    &format!("{path}.industry_not_in[{i}]"),
                    "must be a GB/T 4754 prefix: a section letter and up to 4 digits (e.g. \"J\", \"C15\")",
                );
            }
        }
        Test::IndustryNotIn(prefixes.iter().map(|p| Text::from(p.as_str())).collect())
    } else if let Some(input) = c.choice {
        only_keys(c, path, &["choice", "one_of"])?;
        let Some(values) = &c.one_of else {
            return err(&format!("{path}.one_of"), "is required");
        };
        if values.is_empty() {
            return err(&format!("{path}.one_of"), "must not be empty");
        }
        for (i, v) in values.iter().enumerate() {
            if !input.allowed().contains(&v.as_str()) {
                return err(&format!("{path}.one_of[{i}]"), format!("must be one of: {}", input.allowed().join(", ")));
            }
        }
        Test::Choice { input, one_of: values.clone() }
    } else if let Some(card_name) = &c.score {
        only_keys(c, path, &["score", "category", "op", "threshold"])?;
        let Some(card) = ctx.scorecards.iter().position(|(n, _)| n == card_name) else {
            return err(&format!("{path}.score"), format!("no scorecard named {card_name}"));
        };
        let category = match &c.category {
            None => None,
            Some(cat) => match ctx.scorecards[card].1.iter().position(|n| n == cat) {
                Some(i) => Some(i),
                None => {
                    return err(&format!("{path}.category"), format!("scorecard {card_name} has no category {cat}"));
                }
            },
        };
        unit = Some(Unit::Points);
        Test::Score {
            card,
            category,
            op: required(c.op, path, "op")?,
            threshold: required(c.threshold, path, "threshold")?,
        }
    } else if let Some(options) = &c.any_of {
        only_keys(c, path, &["any_of"])?;
        if !top_level {
            return err(&format!("{path}.any_of"), "any_of cannot be nested");
        }
        if options.len() < 2 {
            return err(&format!("{path}.any_of"), "needs at least two options");
        }
        let mut out = Vec::with_capacity(options.len());
        for (i, o) in options.iter().enumerate() {
            let opath = format!("{path}.any_of[{i}]");
            if options[..i].iter().any(|p| p.name == o.name) {
                return err(&format!("{opath}.name"), format!("duplicate option {}", o.name));
            }
            out.push(compile_criterion(o, &opath, ctx, false)?);
        }
        Test::AnyOf(out)
    } else {
        return err(path, "no test given");
    };
    Ok(CompiledCriterion {
        name: Text::from(c.name.as_str()),
        label_zh: Text::from(c.label_zh.as_str()),
        note: join_notes(c.note.as_deref(), &auto_notes),
        confidence: c.confidence,
        unit,
        test,
    })
}

fn bounded(v: u8, lo: u8, hi: u8, path: &str) -> Result<u8, RuleSetError> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        err(&format!("{path}.years"), format!("must be between {lo} and {hi} for this aggregate"))
    }
}
