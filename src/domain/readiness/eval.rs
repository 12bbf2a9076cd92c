//! The generic criterion interpreter shared by the listing-readiness evaluator and the SME tier
//! check. Every comparison is exact Decimal arithmetic: a ratio `a / b ≥ t` is decided as
//! `a ≥ t·b`, a CAGR as `last·100ⁿ ≥ first·(100+t)ⁿ`; divisions only produce the values shown.
//! Overflow (only possible with absurd inputs) makes a criterion `unknown`, never a panic.

use std::borrow::Cow;
use std::cell::Cell;

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;

use crate::domain::firm::Venue;
use crate::domain::firm::{FinancialYear, NeeqLayer, Tier};
use crate::domain::firm_inputs::{AttestationSource, InvestorKind};
use crate::domain::investment::InvestmentRound;
use crate::domain::readiness::input::{EquityFinancing, ReadinessInput};
use crate::domain::readiness::rules::{
    Aggregate, Comparison, CompiledCriterion, CompiledStandard, CompiledVariant, Fact, Metric, Quantity, RuleScope,
    Test,
};
use crate::domain::readiness::{
    AttestationUsed, CriterionResult, FiscalYears, RuleBook, StandardResult, Text, VariantResult, Verdict,
};

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

/// A value as a fraction `num / den` with `den > 0`, so comparisons can cross-multiply.
#[derive(Debug, Clone, Copy)]
struct Frac {
    num: Decimal,
    den: Decimal,
}

impl Frac {
    fn whole(v: Decimal) -> Frac {
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
enum Val {
    Known(Frac),
    AtLeast(Frac, String),
    Missing,
    Undefined(String),
}

#[derive(Default)]
struct Outcome {
    verdict: Option<Verdict>,
    actual: Option<Decimal>,
    fiscal_years: FiscalYears,
    missing: Vec<String>,
    /// Notes that depend on the data (the static ones are compiled into the criterion's note).
    notes: Vec<Cow<'static, str>>,
    attestation: Option<AttestationUsed>,
}

impl Outcome {
    fn overflow(mut self) -> Outcome {
        self.verdict = Some(Verdict::Unknown);
        self.notes.push(Cow::Borrowed("arithmetic overflow: figures out of range"));
        self
    }
}

fn hundred() -> Decimal {
    Decimal::ONE_HUNDRED
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

/// Whole months from `from` to `to` (0 if `to` is earlier): 2024-01-15 → 2025-01-15 is 12.
pub(crate) fn full_months(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return 0;
    }
    let mut m = i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    if to.day() < from.day() {
        m -= 1;
    }
    m.max(0)
}

/// n-th root by Newton's method from above (monotone for xⁿ, r ≥ 0). Only for display.
fn nth_root(r: Decimal, n: u32) -> Option<Decimal> {
    if n <= 1 || r.is_zero() {
        return Some(r);
    }
    let nd = Decimal::from(n);
    let nm1 = Decimal::from(n - 1);
    // One division per step instead of two; the reciprocal's rounding only affects display.
    let inv_n = Decimal::ONE.checked_div(nd)?;
    let mut x = if r > Decimal::ONE {
        Decimal::ONE.checked_add(r.checked_sub(Decimal::ONE)?.checked_div(nd)?)?
    } else {
        Decimal::ONE
    };
    // Shown to 4 decimal places of a percentage, so 1e-12 on the ratio is ample.
    let eps = Decimal::new(1, 12);
    for _ in 0..200 {
        let mut p = Decimal::ONE;
        for _ in 1..n {
            p = p.checked_mul(x)?;
        }
        if p.is_zero() {
            return Some(x);
        }
        let next = nm1.checked_mul(x)?.checked_add(r.checked_div(p)?)?.checked_mul(inv_n)?;
        if (x - next).abs() < eps {
            return Some(next);
        }
        x = next;
    }
    Some(x)
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

    fn row(&self, fy: i32) -> Option<&'a FinancialYear> {
        let back = i64::from(self.latest) - i64::from(fy);
        if (0..MAX_YEARS as i64).contains(&back) { self.years[back as usize] } else { None }
    }

    /// A yearly figure, recording what is missing as `"field year"`.
    fn raw(&self, metric: Metric, fy: i32, missing: &mut Vec<String>) -> Option<Decimal> {
        let row = self.row(fy);
        let pick = |f: fn(&FinancialYear) -> Option<Decimal>| row.and_then(f);
        let count = |f: fn(&FinancialYear) -> Option<i64>| row.and_then(f).map(Decimal::from);
        let v = match metric {
            Metric::NetProfitLower | Metric::WeightedRoeLower => {
                // 扣非前后孰低: both figures are needed, the lower one counts.
                let (a, b, names) = if metric == Metric::NetProfitLower {
                    (pick(|r| r.net_profit), pick(|r| r.net_profit_deducted), ("net_profit", "net_profit_deducted"))
                } else {
                    (
                        pick(|r| r.weighted_roe),
                        pick(|r| r.weighted_roe_deducted),
                        ("weighted_roe", "weighted_roe_deducted"),
                    )
                };
                if a.is_none() {
                    missing.push(format!("{} {fy}", names.0));
                }
                if b.is_none() {
                    missing.push(format!("{} {fy}", names.1));
                }
                return Some(a?.min(b?));
            }
            Metric::Revenue => pick(|r| r.revenue),
            Metric::MainBusinessRevenue => pick(|r| r.main_business_revenue),
            Metric::NetProfit => pick(|r| r.net_profit),
            Metric::NetProfitDeducted => pick(|r| r.net_profit_deducted),
            Metric::RdExpense => pick(|r| r.rd_expense),
            Metric::OperatingCashFlow => pick(|r| r.operating_cash_flow),
            Metric::TotalAssets => pick(|r| r.total_assets),
            Metric::TotalLiabilities => pick(|r| r.total_liabilities),
            Metric::NetAssets => pick(|r| r.net_assets),
            Metric::WeightedRoe => pick(|r| r.weighted_roe),
            Metric::WeightedRoeDeducted => pick(|r| r.weighted_roe_deducted),
            Metric::Employees => count(|r| r.employees),
            Metric::RdStaff => count(|r| r.rd_staff),
            // Not yearly; compile never builds a yearly quantity from these.
            _ => None,
        };
        if v.is_none() {
            missing.push(format!("{} {fy}", metric.as_str()));
        }
        v
    }

    /// One year's value of `metric`, or of `metric / over` in percent.
    fn year_val(&self, metric: Metric, over: Option<Metric>, fy: i32, missing: &mut Vec<String>) -> Val {
        let v = self.raw(metric, fy, missing);
        let Some(over) = over else {
            return v.map_or(Val::Missing, |v| Val::Known(Frac::whole(v)));
        };
        let d = self.raw(over, fy, missing);
        let (Some(v), Some(d)) = (v, d) else {
            return Val::Missing;
        };
        ratio(v, d, || format!("{} {fy} is not positive", over.as_str()))
    }

    fn growth(&self, metric: Metric, fy: i32, missing: &mut Vec<String>) -> Val {
        let last = self.raw(metric, fy, missing);
        let prev = self.raw(metric, fy - 1, missing);
        let (Some(last), Some(prev)) = (last, prev) else {
            return Val::Missing;
        };
        if prev <= Decimal::ZERO {
            return Val::Undefined(format!("growth undefined: {} {} is not positive", metric.as_str(), fy - 1));
        }
        match last.checked_sub(prev).and_then(|d| d.checked_mul(hundred())) {
            Some(num) => Val::Known(Frac { num, den: prev }),
            None => Val::Undefined("arithmetic overflow".to_owned()),
        }
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

    fn compare(&self, q: &Quantity, op: Comparison, t: Decimal) -> Outcome {
        match *q {
            Quantity::Yearly { metric, over, aggregate, years } => self.yearly(metric, over, aggregate, years, op, t),
            Quantity::Current(metric) => {
                let mut o = Outcome::default();
                let v = self.current(metric, &mut o);
                decide_single(o, v, op, t)
            }
            Quantity::Event { metric, months } => {
                let mut o = Outcome::default();
                let v = self.event_sum(metric, months, &mut o);
                decide_single(o, v, op, t)
            }
        }
    }

    fn yearly(
        &self,
        metric: Metric,
        over: Option<Metric>,
        aggregate: Aggregate,
        years: u8,
        op: Comparison,
        t: Decimal,
    ) -> Outcome {
        let latest = self.latest;
        let n = i32::from(years);
        let mut o = Outcome::default();
        match aggregate {
            Aggregate::Latest => {
                o.fiscal_years = FiscalYears::one(latest);
                let v = self.year_val(metric, over, latest, &mut o.missing);
                decide_single(o, v, op, t)
            }
            Aggregate::Each => {
                o.fiscal_years = FiscalYears::span(latest - n + 1, latest);
                let vals: Vec<(i32, Val)> =
                    (latest - n + 1..=latest).map(|fy| (fy, self.year_val(metric, over, fy, &mut o.missing))).collect();
                decide_each(o, vals, op, t)
            }
            Aggregate::EachGrowth => {
                o.fiscal_years = FiscalYears::span(latest - n, latest);
                let vals: Vec<(i32, Val)> =
                    (latest - n + 1..=latest).map(|fy| (fy, self.growth(metric, fy, &mut o.missing))).collect();
                decide_each(o, vals, op, t)
            }
            Aggregate::Sum | Aggregate::Average => {
                o.fiscal_years = FiscalYears::span(latest - n + 1, latest);
                // Fixed arrays: windows are at most MAX_YEARS long, and this path is hot.
                let mut nums = [Decimal::ZERO; MAX_YEARS];
                let mut dens = [Decimal::ZERO; MAX_YEARS];
                let len = usize::from(years).min(MAX_YEARS);
                for (i, fy) in (latest - n + 1..=latest).take(len).enumerate() {
                    nums[i] = self.raw(metric, fy, &mut o.missing).unwrap_or_default();
                    if let Some(over) = over {
                        dens[i] = self.raw(over, fy, &mut o.missing).unwrap_or_default();
                    }
                }
                if !o.missing.is_empty() {
                    o.verdict = Some(Verdict::Unknown);
                    return o;
                }
                let (nums, dens) = (&nums[..len], &dens[..len]);
                let v = match (aggregate, over) {
                    (Aggregate::Sum, None) => sum(nums).map_or(overflow_val(), |s| Val::Known(Frac::whole(s))),
                    (Aggregate::Sum, Some(over)) => match (sum(nums), sum(dens)) {
                        (Some(a), Some(b)) => {
                            ratio(a, b, || format!("{} over {} years is not positive", over.as_str(), years))
                        }
                        _ => overflow_val(),
                    },
                    (_, None) => {
                        sum(nums).map_or(overflow_val(), |s| Val::Known(Frac { num: s, den: Decimal::from(years) }))
                    }
                    (_, Some(over)) => {
                        // Average of yearly ratios (e.g. two-year average ROE-style figures).
                        let mut acc = Decimal::ZERO;
                        for (a, b) in nums.iter().zip(dens) {
                            if *b <= Decimal::ZERO {
                                return decide_single(
                                    o,
                                    Val::Undefined(format!("{} is not positive", over.as_str())),
                                    op,
                                    t,
                                );
                            }
                            match a
                                .checked_mul(hundred())
                                .and_then(|x| x.checked_div(*b))
                                .and_then(|x| acc.checked_add(x))
                            {
                                Some(x) => acc = x,
                                None => return o.overflow(),
                            }
                        }
                        Val::Known(Frac { num: acc, den: Decimal::from(years) })
                    }
                };
                decide_single(o, v, op, t)
            }
            Aggregate::Growth => {
                o.fiscal_years = FiscalYears::span(latest - 1, latest);
                let v = self.growth(metric, latest, &mut o.missing);
                decide_single(o, v, op, t)
            }
            Aggregate::AverageGrowth => {
                o.fiscal_years = FiscalYears::span(latest - n, latest);
                let mut acc = Decimal::ZERO;
                let mut undefined = None;
                for fy in latest - n + 1..=latest {
                    match self.growth(metric, fy, &mut o.missing) {
                        Val::Known(f) => match f.num.checked_div(f.den).and_then(|x| acc.checked_add(x)) {
                            Some(x) => acc = x,
                            None => return o.overflow(),
                        },
                        Val::Undefined(why) => undefined = Some(why),
                        Val::Missing | Val::AtLeast(..) => {}
                    }
                }
                let v = if !o.missing.is_empty() {
                    Val::Missing
                } else if let Some(why) = undefined {
                    Val::Undefined(why)
                } else {
                    Val::Known(Frac { num: acc, den: Decimal::from(years) })
                };
                decide_single(o, v, op, t)
            }
            Aggregate::Cagr => {
                o.fiscal_years = FiscalYears::span(latest - n + 1, latest);
                let first_fy = latest - n + 1;
                let first = self.raw(metric, first_fy, &mut o.missing);
                let last = self.raw(metric, latest, &mut o.missing);
                let (Some(first), Some(last)) = (first, last) else {
                    o.verdict = Some(Verdict::Unknown);
                    return o;
                };
                if first <= Decimal::ZERO || last < Decimal::ZERO {
                    o.verdict = Some(Verdict::NotMet);
                    o.notes.push(Cow::Owned(format!(
                        "CAGR undefined: {} must be positive in {first_fy} and not negative in {latest}",
                        metric.as_str()
                    )));
                    return o;
                }
                let periods = u32::from(years) - 1;
                let mut lhs = last;
                let mut rhs = first;
                let growth = hundred().checked_add(t);
                for _ in 0..periods {
                    match (lhs.checked_mul(hundred()), growth.and_then(|g| rhs.checked_mul(g))) {
                        (Some(a), Some(b)) => {
                            lhs = a;
                            rhs = b;
                        }
                        _ => return o.overflow(),
                    }
                }
                o.verdict = Some(if op.holds(lhs, rhs) { Verdict::Met } else { Verdict::NotMet });
                o.actual = last
                    .checked_div(first)
                    .and_then(|r| nth_root(r, periods))
                    .and_then(|x| x.checked_mul(hundred()))
                    .and_then(|x| x.checked_sub(hundred()))
                    .map(|x| x.round_dp(SHOWN_DP).normalize());
                o
            }
        }
    }

    fn current(&self, metric: Metric, o: &mut Outcome) -> Val {
        let input = self.input;
        let known = |v: Decimal| Val::Known(Frac::whole(v));
        let missing = |o: &mut Outcome, what: String| {
            o.missing.push(what);
            Val::Missing
        };
        let extra = |o: &mut Outcome, v: Option<Decimal>| match v {
            Some(v) => known(v),
            None => missing(o, format!("sme.{}", metric.as_str())),
        };
        let date = input.evaluation_date;
        match metric {
            Metric::ExpectedMarketValue => match input.expected_market_value {
                Some(v) => {
                    if let Some(on) = input.expected_market_value_on {
                        o.notes.push(Cow::Owned(format!("estimate of {on}")));
                    }
                    known(v)
                }
                None => missing(o, "expected_market_value".to_owned()),
            },
            Metric::MonthsOnNeeq => match (input.neeq_listed_on, input.neeq_layer) {
                (Some(on), _) => known(Decimal::from(full_months(on, date))),
                (None, Some(_)) => missing(o, "neeq_listed_on".to_owned()),
                (None, None) => {
                    o.notes.push(Cow::Borrowed("not quoted on NEEQ"));
                    known(Decimal::ZERO)
                }
            },
            Metric::MonthsOnNeeqInnovationLayer => match (input.neeq_layer, input.neeq_innovation_layer_since) {
                (Some(NeeqLayer::Innovation), Some(since)) => known(Decimal::from(full_months(since, date))),
                (Some(NeeqLayer::Innovation), None) => missing(o, "neeq_innovation_layer_since".to_owned()),
                _ => {
                    o.notes.push(Cow::Borrowed("not on the NEEQ innovation layer"));
                    known(Decimal::ZERO)
                }
            },
            Metric::InventionPatents => {
                if let Some(n) = input.invention_patents {
                    return known(Decimal::from(n));
                }
                o.fiscal_years = FiscalYears::one(self.latest);
                match self.row(self.latest).and_then(|r| r.invention_patents) {
                    Some(n) => known(Decimal::from(n)),
                    None => missing(o, format!("invention_patents {}", self.latest)),
                }
            }
            Metric::RdStaffShare => {
                if let Some(v) = input.rd_staff_share {
                    return known(v);
                }
                o.fiscal_years = FiscalYears::one(self.latest);
                let v = self.year_val(Metric::RdStaff, Some(Metric::Employees), self.latest, &mut o.missing);
                if matches!(v, Val::Missing) {
                    o.missing.insert(0, "rd_staff_share".to_owned());
                }
                v
            }
            Metric::ShareCapital => match input.share_capital {
                Some(v) => known(v),
                None => missing(o, "share_capital".to_owned()),
            },
            Metric::NetAssetsPerShare => {
                // 最近一期末: net assets and share capital both at the end of the latest year.
                o.fiscal_years = FiscalYears::one(self.latest);
                let assets = self.raw(Metric::NetAssets, self.latest, &mut o.missing);
                let capital = input.share_capital_at_year_end;
                if capital.is_none() {
                    o.missing.push(format!("share_capital {}-12-31", self.latest));
                }
                match (assets, capital) {
                    (Some(a), Some(c)) if c > Decimal::ZERO => Val::Known(Frac { num: a, den: c }),
                    (Some(_), Some(_)) => Val::Undefined("share_capital is not positive".to_owned()),
                    _ => Val::Missing,
                }
            }
            Metric::FullFiscalYearsOperating => match input.founded_on {
                Some(founded) => {
                    let first_full =
                        if founded.month() == 1 && founded.day() == 1 { founded.year() } else { founded.year() + 1 };
                    known(Decimal::from((self.latest - first_full + 1).max(0)))
                }
                None => missing(o, "founded_on".to_owned()),
            },
            Metric::NicheMarketYears => extra(o, input.sme.niche_market_years),
            Metric::DigitalisationLevel => extra(o, input.sme.digitalisation_level.map(Decimal::from)),
            Metric::QualityItems => extra(o, input.sme.quality_items.map(Decimal::from)),
            Metric::NationalNicheMarketShare => extra(o, input.sme.national_niche_market_share),
            Metric::ClassIIpInUse => extra(o, input.sme.class_i_ip_in_use.map(Decimal::from)),
            Metric::InnovativeOperationItems => extra(o, input.sme.innovative_operation_items.map(Decimal::from)),
            // Yearly and event metrics never reach here (compile sorts them by kind).
            _ => Val::Undefined(format!("{} is not a current metric", metric.as_str())),
        }
    }

    fn event_sum(&self, metric: Metric, months: u16, o: &mut Outcome) -> Val {
        let Some(events) = &self.input.equity_financings else {
            o.missing.push("equity_financings".to_owned());
            return Val::Missing;
        };
        let end = self.input.evaluation_date;
        let start = end.checked_sub_months(Months::new(u32::from(months))).unwrap_or(NaiveDate::MIN);
        let in_window = events.iter().filter(|e| e.paid_in_on > start && e.paid_in_on <= end);
        if metric == Metric::EquityFinancingMinValuation {
            // Every round in the window must carry its valuation; the lowest counts.
            let mut lowest: Option<Decimal> = None;
            for e in in_window {
                match e.post_money_valuation {
                    Some(v) => lowest = Some(lowest.map_or(v, |l| l.min(v))),
                    None => {
                        o.missing.push(format!("post_money_valuation of the round paid in on {}", e.paid_in_on));
                        return Val::Missing;
                    }
                }
            }
            return match lowest {
                Some(v) if !self.input.equity_financings_partial => Val::Known(Frac::whole(v)),
                Some(_) => {
                    o.missing.push(format!("equity_financings complete through {end}"));
                    Val::Missing
                }
                None if self.input.equity_financings_partial => {
                    o.missing.push(format!("equity_financings complete through {end}"));
                    Val::Missing
                }
                None => Val::Undefined(format!("no equity financing in the {months} months to {end}")),
            };
        }
        let institutional_only = metric == Metric::EquityFinancingInstitutional;
        let mut total = Decimal::ZERO;
        for e in in_window {
            if !institutional_only || e.by_qualified_institution {
                match total.checked_add(e.amount) {
                    Some(t) => total = t,
                    None => return Val::Undefined("arithmetic overflow".to_owned()),
                }
            }
        }
        if self.input.equity_financings_partial {
            // The rounds on record are a lower bound of the total.
            return Val::AtLeast(Frac::whole(total), format!("equity_financings complete through {end}"));
        }
        Val::Known(Frac::whole(total))
    }

    /// A fact read from the financing record: met when a recorded round shows it, not met when
    /// the record is complete and none does, unknown otherwise.
    fn financing_fact(&self, shows: impl Fn(&EquityFinancing) -> bool) -> Outcome {
        let Some(rounds) = &self.input.equity_financings else {
            return Outcome {
                verdict: Some(Verdict::Unknown),
                missing: vec!["equity_financings".to_owned()],
                ..Outcome::default()
            };
        };
        if rounds.iter().any(shows) {
            verdict_only(Verdict::Met)
        } else if self.input.equity_financings_partial {
            Outcome {
                verdict: Some(Verdict::Unknown),
                missing: vec![format!("equity_financings complete through {}", self.input.evaluation_date)],
                ..Outcome::default()
            }
        } else {
            verdict_only(Verdict::NotMet)
        }
    }

    fn fact(&self, f: Fact) -> Outcome {
        let tier = self.input.tier;
        let yes = |b: bool| verdict_only(if b { Verdict::Met } else { Verdict::NotMet });
        match f {
            Fact::NeeqInnovationLayer => yes(self.input.neeq_layer == Some(NeeqLayer::Innovation)),
            Fact::InReservePool => yes(self.input.in_reserve_pool),
            Fact::TierInnovativeSmeOrAbove => yes(tier.is_some()),
            Fact::TierProvincialSrdiOrAbove => yes(tier.is_some_and(|t| t >= Tier::ProvincialSrdi)),
            Fact::TierLittleGiant => yes(tier == Some(Tier::LittleGiant)),
            Fact::FundBacked => self
                .financing_fact(|r| matches!(r.investor_kind, Some(InvestorKind::GovernmentFund | InvestorKind::VcPe))),
            Fact::EquityRoundBOrLater => self.financing_fact(|r| {
                matches!(r.round, Some(InvestmentRound::SeriesB | InvestmentRound::SeriesC | InvestmentRound::PreIpo))
            }),
            Fact::MeetsExchangeFinancialStandard => {
                let v = self.exchange_verdict();
                let mut o = verdict_only(v);
                if v == Verdict::Unknown {
                    o.missing.push("financial data for the BSE/STAR/ChiNext standards".to_owned());
                }
                o
            }
        }
    }

    /// Whether any BSE, STAR or ChiNext financial standard in force is met (entry conditions
    /// aside), as the 专精特新专板 cultivation layer asks.
    fn exchange_verdict(&self) -> Verdict {
        if let Some(v) = self.exchange.get() {
            return v;
        }
        let Some(book) = self.book else {
            return Verdict::Unknown;
        };
        let inner = Ctx { book: None, exchange: Cell::new(Some(Verdict::Unknown)), ..*self };
        let mut verdicts = Vec::new();
        for venue in [Venue::Bse, Venue::Star, Venue::Chinext] {
            if let Some(set) = book.select(venue, RuleScope::Listing, self.input.evaluation_date) {
                let date = self.input.evaluation_date;
                verdicts
                    .extend(set.standards.iter().filter(|s| s.in_force_on(date)).map(|s| inner.standard(s).verdict));
            }
        }
        let v = any_of(verdicts.into_iter());
        self.exchange.set(Some(v));
        v
    }

    fn score(&self, card: usize, category: Option<usize>, op: Comparison, t: Decimal) -> Outcome {
        let Some(range) = self.scores.get(card) else {
            return Outcome {
                verdict: Some(Verdict::Unknown),
                missing: vec!["scorecard".to_owned()],
                ..Outcome::default()
            };
        };
        let ((lo, hi), missing) = match category {
            None => (range.total, &range.missing),
            Some(i) => match (range.categories.get(i), range.category_missing.get(i)) {
                (Some(r), Some(m)) => (*r, m),
                _ => ((Decimal::ZERO, Decimal::ZERO), &range.missing),
            },
        };
        let at_lo = op.holds(lo, t);
        let at_hi = op.holds(hi, t);
        let mut o = Outcome { actual: Some(lo), ..Outcome::default() };
        o.verdict = Some(if at_lo && at_hi {
            Verdict::Met
        } else if !at_lo && !at_hi {
            Verdict::NotMet
        } else {
            o.missing = missing.clone();
            o.notes.push(Cow::Owned(format!("score between {lo} and {hi} until the missing inputs are known")));
            Verdict::Unknown
        });
        o
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

/// How far `actual` is from passing `op threshold` (0 at a strict boundary, e.g. profit 0 > 0).
fn shortfall(op: Comparison, actual: Decimal, threshold: Decimal) -> Option<Decimal> {
    let gap = if op.wants_more() { threshold.checked_sub(actual) } else { actual.checked_sub(threshold) };
    gap.map(|g| g.max(Decimal::ZERO).round_dp(SHOWN_DP).normalize())
}

fn verdict_only(v: Verdict) -> Outcome {
    Outcome { verdict: Some(v), ..Outcome::default() }
}

fn overflow_val() -> Val {
    Val::Undefined("arithmetic overflow".to_owned())
}

fn sum(values: &[Decimal]) -> Option<Decimal> {
    values.iter().try_fold(Decimal::ZERO, |acc, v| acc.checked_add(*v))
}

fn ratio(num: Decimal, den: Decimal, why: impl FnOnce() -> String) -> Val {
    if den <= Decimal::ZERO {
        return Val::Undefined(format!("ratio undefined: {}", why()));
    }
    match num.checked_mul(hundred()) {
        Some(num) => Val::Known(Frac { num, den }),
        None => overflow_val(),
    }
}

fn decide_single(mut o: Outcome, v: Val, op: Comparison, t: Decimal) -> Outcome {
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
fn decide_each(mut o: Outcome, vals: Vec<(i32, Val)>, op: Comparison, t: Decimal) -> Outcome {
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

fn variant_rank(v: &VariantResult) -> (u8, (usize, Decimal, usize)) {
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
