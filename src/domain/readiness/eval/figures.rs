//! Reading the figures a comparison needs: yearly values over windows (sums, averages, growth,
//! CAGR), values on the evaluation date, and sums of dated financing events.

use std::borrow::Cow;

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;

use super::value::{Frac, Outcome, Val, decide_each, decide_single, hundred, overflow_val, ratio, sum};
use super::{Ctx, MAX_YEARS, SHOWN_DP};
use crate::domain::firm::{FinancialYear, NeeqLayer};
use crate::domain::readiness::rules::{Aggregate, Comparison, Metric, Quantity};
use crate::domain::readiness::{FiscalYears, Verdict};

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

    pub(super) fn compare(&self, q: &Quantity, op: Comparison, t: Decimal) -> Outcome {
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
}
