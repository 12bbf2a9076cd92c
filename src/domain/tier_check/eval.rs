//! A tier scheme compiled for evaluation, and the scoring of a firm's inputs against it.

use super::*;

// ---------------------------------------------------------------------------------------------
// Compiled form and evaluation.

#[derive(Debug, Clone)]
pub(super) enum CompiledIndicator {
    /// Per measure: one criterion per band (with its points) and the fallback points.
    Measures(Vec<(Vec<(CompiledCriterion, Decimal)>, Decimal)>),
    Choice {
        input: ChoiceInput,
        points: BTreeMap<String, Decimal>,
    },
}

#[derive(Debug, Clone)]
pub(super) struct CompiledScheme {
    pub(super) scheme: TierScheme,
    /// [card][category][indicator]
    indicators: Vec<Vec<Vec<CompiledIndicator>>>,
    tiers: Vec<(Tier, String, Vec<CompiledStandard>)>,
}

pub(super) fn compile_scheme(s: &TierScheme) -> Result<CompiledScheme, RuleSetError> {
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

pub(super) fn check_scheme(c: &CompiledScheme, input: &ReadinessInput) -> TierCheck {
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
