//! Table-driven tests of the listing rule data and the evaluator.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::*;
use crate::domain::firm::{FinancialYear, NeeqLayer, Tier, Venue};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn book() -> RuleBook {
    RuleBook::builtin().expect("builtin rule sets are valid")
}

/// A firm that meets every standard and entry condition of every venue, with data for the five
/// fiscal years up to the latest one before `on`.
fn strong(on: &str) -> ReadinessInput {
    let evaluation_date = date(on);
    let mut input = ReadinessInput { evaluation_date, ..ReadinessInput::default() };
    let latest = input.latest_fiscal_year();
    // (back, revenue, rd) — revenue CAGR 41%, R&D CAGR 41%, R&D ratio 20%.
    let rows = [
        (4, "300000000", "50000000"),
        (3, "400000000", "80000000"),
        (2, "500000000", "100000000"),
        (1, "700000000", "140000000"),
        (0, "1000000000", "200000000"),
    ];
    for (back, revenue, rd) in rows {
        let mut y = FinancialYear { fiscal_year: latest - back, ..FinancialYear::default() };
        y.revenue = Some(d(revenue));
        y.main_business_revenue = Some(d(revenue));
        y.net_profit = Some(d("160000000"));
        y.net_profit_deducted = Some(d("150000000"));
        y.rd_expense = Some(d(rd));
        y.operating_cash_flow = Some(d("100000000"));
        y.total_assets = Some(d("2000000000"));
        y.total_liabilities = Some(d("1000000000"));
        y.net_assets = Some(d("1000000000"));
        y.weighted_roe = Some(d("20"));
        y.weighted_roe_deducted = Some(d("19"));
        y.invention_patents = Some(60);
        y.employees = Some(1000);
        y.rd_staff = Some(200);
        input.financials.push(y);
    }
    input.expected_market_value = Some(d("10000000000"));
    input.neeq_listed_on = Some(date("2019-01-01"));
    input.neeq_layer = Some(NeeqLayer::Innovation);
    input.neeq_innovation_layer_since = Some(date("2020-01-01"));
    input.industry_code = Some("C3562".to_owned());
    input.tier = Some(Tier::LittleGiant);
    input.in_reserve_pool = true;
    input.founded_on = Some(date("2010-03-01"));
    input.share_capital = Some(d("100000000"));
    input.share_capital_at_year_end = Some(d("100000000"));
    input.equity_financings = Some(vec![EquityFinancing {
        paid_in_on: evaluation_date - chrono::TimeDelta::days(100),
        amount: d("100000000"),
        by_qualified_institution: true,
        post_money_valuation: Some(d("1000000000")),
        ..EquityFinancing::default()
    }]);
    for key in [
        "star5_major_business_approved",
        "chinext_modern_industry_field",
        "neeq_market_making_placement",
        "neeq_placements_at_300m_market_value",
        "neeq_average_market_value_300m_with_trading",
    ] {
        input.attestations.insert(key.to_owned(), true.into());
    }
    input
}

fn year_mut(input: &mut ReadinessInput, back: i32) -> &mut FinancialYear {
    let fy = input.latest_fiscal_year() - back;
    input.financials.iter_mut().find(|y| y.fiscal_year == fy).unwrap()
}

/// Sets the lower-of net profit of one year to `x` (net profit before 扣非 stays higher).
fn set_np(input: &mut ReadinessInput, back: i32, x: Decimal) {
    let y = year_mut(input, back);
    y.net_profit = Some(x + d("1000"));
    y.net_profit_deducted = Some(x);
}

type Setter = fn(&mut ReadinessInput, Decimal);

fn emv(i: &mut ReadinessInput, x: Decimal) {
    i.expected_market_value = Some(x);
}
fn np_latest(i: &mut ReadinessInput, x: Decimal) {
    set_np(i, 0, x);
}
fn np_prev(i: &mut ReadinessInput, x: Decimal) {
    set_np(i, 1, x);
}
fn np_sum2(i: &mut ReadinessInput, x: Decimal) {
    set_np(i, 0, x * d("0.7"));
    set_np(i, 1, x * d("0.3"));
}
fn rev_latest(i: &mut ReadinessInput, x: Decimal) {
    year_mut(i, 0).revenue = Some(x);
}
/// Average of the last two years = x, growing every year (0.5x, 0.8x, 1.2x).
fn rev_avg2(i: &mut ReadinessInput, x: Decimal) {
    year_mut(i, 2).revenue = Some(x * d("0.5"));
    year_mut(i, 1).revenue = Some(x * d("0.8"));
    year_mut(i, 0).revenue = Some(x * d("1.2"));
}
fn rev_growth(i: &mut ReadinessInput, x: Decimal) {
    let prev = year_mut(i, 1).revenue.unwrap();
    year_mut(i, 0).revenue = Some(prev * (d("100") + x) / d("100"));
}
/// Growth of the year before the latest (the latest year keeps growing strongly).
fn rev_growth_prev(i: &mut ReadinessInput, x: Decimal) {
    let base = year_mut(i, 2).revenue.unwrap();
    year_mut(i, 1).revenue = Some(base * (d("100") + x) / d("100"));
}
/// Three-year CAGR = x (each year grows by x from the base year's 5亿).
fn rev_cagr3(i: &mut ReadinessInput, x: Decimal) {
    let g = (d("100") + x) / d("100");
    let base = d("500000000");
    year_mut(i, 2).revenue = Some(base);
    year_mut(i, 1).revenue = Some(base * g);
    year_mut(i, 0).revenue = Some(base * g * g);
}
fn rd_ratio(i: &mut ReadinessInput, years: i32, x: Decimal) {
    for back in 0..years {
        let y = year_mut(i, back);
        y.rd_expense = Some(y.revenue.unwrap() * x / d("100"));
    }
}
fn rd_ratio2(i: &mut ReadinessInput, x: Decimal) {
    rd_ratio(i, 2, x);
}
fn rd_ratio3(i: &mut ReadinessInput, x: Decimal) {
    rd_ratio(i, 3, x);
}
fn rd_sum2(i: &mut ReadinessInput, x: Decimal) {
    year_mut(i, 0).rd_expense = Some(x * d("0.6"));
    year_mut(i, 1).rd_expense = Some(x * d("0.4"));
}
fn rd_sum3(i: &mut ReadinessInput, x: Decimal) {
    year_mut(i, 0).rd_expense = Some(x * d("0.5"));
    year_mut(i, 1).rd_expense = Some(x * d("0.3"));
    year_mut(i, 2).rd_expense = Some(x * d("0.2"));
}
/// Latest-year R&D = x, from a base that keeps the R&D CAGR at 41%.
fn rd_latest(i: &mut ReadinessInput, x: Decimal) {
    year_mut(i, 0).rd_expense = Some(x);
    year_mut(i, 1).rd_expense = Some(x * d("0.7"));
    year_mut(i, 2).rd_expense = Some(x * d("0.5"));
}
fn rd_cagr3(i: &mut ReadinessInput, x: Decimal) {
    let g = (d("100") + x) / d("100");
    let base = d("100000000");
    year_mut(i, 2).rd_expense = Some(base);
    year_mut(i, 1).rd_expense = Some(base * g);
    year_mut(i, 0).rd_expense = Some(base * g * g);
}
fn ocf_latest(i: &mut ReadinessInput, x: Decimal) {
    year_mut(i, 0).operating_cash_flow = Some(x);
}
fn ocf_sum3(i: &mut ReadinessInput, x: Decimal) {
    year_mut(i, 0).operating_cash_flow = Some(x * d("0.5"));
    year_mut(i, 1).operating_cash_flow = Some(x * d("0.3"));
    year_mut(i, 2).operating_cash_flow = Some(x * d("0.2"));
}
/// Sets the lower-of ROE of one year to `x` (ROE before 扣非 stays higher).
fn set_roe(i: &mut ReadinessInput, back: i32, x: Decimal) {
    let y = year_mut(i, back);
    y.weighted_roe = Some(x + d("0.5"));
    y.weighted_roe_deducted = Some(x);
}
fn roe_avg2(i: &mut ReadinessInput, x: Decimal) {
    set_roe(i, 0, x + d("1"));
    set_roe(i, 1, x - d("1"));
}
fn roe_latest(i: &mut ReadinessInput, x: Decimal) {
    set_roe(i, 0, x);
}
fn net_assets(i: &mut ReadinessInput, x: Decimal) {
    year_mut(i, 0).net_assets = Some(x);
}
fn months_on_neeq(i: &mut ReadinessInput, x: Decimal) {
    let months = x.to_u32().unwrap();
    i.neeq_listed_on = Some(i.evaluation_date.checked_sub_months(Months::new(months)).unwrap());
}
fn rd_staff_share(i: &mut ReadinessInput, x: Decimal) {
    i.rd_staff_share = None;
    let y = year_mut(i, 0);
    y.employees = Some(1000);
    y.rd_staff = Some((x * d("10")).to_i64().unwrap());
}
fn patents(i: &mut ReadinessInput, x: Decimal) {
    i.invention_patents = None;
    year_mut(i, 0).invention_patents = Some(x.to_i64().unwrap());
}
fn share_capital(i: &mut ReadinessInput, x: Decimal) {
    i.share_capital = Some(x);
}
fn net_assets_per_share(i: &mut ReadinessInput, x: Decimal) {
    i.share_capital_at_year_end = Some(d("100000000"));
    year_mut(i, 0).net_assets = Some(x * d("100000000"));
}
fn full_years(i: &mut ReadinessInput, x: Decimal) {
    let first_full = i.latest_fiscal_year() - x.to_i32().unwrap() + 1;
    i.founded_on = Some(NaiveDate::from_ymd_opt(first_full, 1, 1).unwrap());
}
/// Two placements in the last 24 months, the lower valued at `x`.
fn min_valuation_24m(i: &mut ReadinessInput, x: Decimal) {
    let round = |days: i64, valuation: Decimal| EquityFinancing {
        paid_in_on: i.evaluation_date - chrono::TimeDelta::days(days),
        amount: d("25000000"),
        post_money_valuation: Some(valuation),
        ..EquityFinancing::default()
    };
    i.equity_financings = Some(vec![round(500, x), round(100, x + d("100000000"))]);
}
fn equity_24m(i: &mut ReadinessInput, x: Decimal) {
    i.equity_financings = Some(vec![EquityFinancing {
        paid_in_on: i.evaluation_date - chrono::TimeDelta::days(200),
        amount: x,
        by_qualified_institution: false,
        ..EquityFinancing::default()
    }]);
}

/// One threshold under test: the criterion `path` ("name" or "any_of_name.option") in the
/// standard `code` (variant `variant` when the standard has several), set to `at` exactly,
/// then `at − step` and `at + step`.
struct Case {
    on: &'static str,
    venue: Venue,
    scope: RuleScope,
    code: &'static str,
    variant: Option<&'static str>,
    path: &'static str,
    set: Setter,
    at: &'static str,
    step: &'static str,
}

const NEW: &str = "2025-06-30";
const OLD: &str = "2024-03-31";

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use RuleScope::{InnovationLayer as Inn, Listing as L};
    use Venue::{Bse, Chinext, Neeq, Star};
    let c = |on, venue, scope, code, variant, path, set: Setter, at, step| Case { on, venue, scope, code, variant, path, set, at, step };
    vec![
        // BSE entry conditions and the four standards.
        c(NEW, Bse, L, "bse_entry_neeq", None, "months_on_neeq", months_on_neeq, "12", "1"),
        c(NEW, Bse, L, "bse_entry_net_assets", None, "net_assets", net_assets, "50000000", "0.01"),
        c(NEW, Bse, L, "bse_1", Some("a"), "expected_market_value", emv, "200000000", "0.01"),
        c(NEW, Bse, L, "bse_1", Some("a"), "net_profit_each_2y", np_prev, "15000000", "0.01"),
        c(NEW, Bse, L, "bse_1", Some("a"), "net_profit_each_2y", np_latest, "15000000", "0.01"),
        c(NEW, Bse, L, "bse_1", Some("a"), "weighted_roe_average_2y", roe_avg2, "8", "0.01"),
        c(NEW, Bse, L, "bse_1", Some("b"), "expected_market_value", emv, "200000000", "0.01"),
        c(NEW, Bse, L, "bse_1", Some("b"), "net_profit_latest", np_latest, "25000000", "0.01"),
        c(NEW, Bse, L, "bse_1", Some("b"), "weighted_roe_latest", roe_latest, "8", "0.01"),
        c(NEW, Bse, L, "bse_2", None, "expected_market_value", emv, "400000000", "0.01"),
        c(NEW, Bse, L, "bse_2", None, "revenue_average_2y", rev_avg2, "100000000", "0.01"),
        c(NEW, Bse, L, "bse_2", None, "revenue_growth", rev_growth, "30", "0.01"),
        c(NEW, Bse, L, "bse_2", None, "operating_cash_flow_latest", ocf_latest, "0", "0.01"),
        c(NEW, Bse, L, "bse_3", None, "expected_market_value", emv, "800000000", "0.01"),
        c(NEW, Bse, L, "bse_3", None, "revenue_latest", rev_latest, "200000000", "0.01"),
        c(NEW, Bse, L, "bse_3", None, "rd_ratio_2y", rd_ratio2, "8", "0.01"),
        c(NEW, Bse, L, "bse_4", None, "expected_market_value", emv, "1500000000", "0.01"),
        c(NEW, Bse, L, "bse_4", None, "rd_sum_2y", rd_sum2, "50000000", "0.01"),
        // STAR 2024: 科创属性 and the five standards.
        c(NEW, Star, L, "star_sci_tech_attribute", Some("regular"), "k1_rd.rd_ratio_3y", rd_ratio3, "5", "0.01"),
        c(NEW, Star, L, "star_sci_tech_attribute", Some("regular"), "k1_rd.rd_sum_3y", rd_sum3, "80000000", "0.01"),
        c(NEW, Star, L, "star_sci_tech_attribute", Some("regular"), "k2_rd_staff_share", rd_staff_share, "10", "0.1"),
        c(NEW, Star, L, "star_sci_tech_attribute", Some("regular"), "k3_invention_patents", patents, "7", "1"),
        c(NEW, Star, L, "star_sci_tech_attribute", Some("regular"), "k4_growth_or_scale.revenue_cagr_3y", rev_cagr3, "25", "0.01"),
        c(NEW, Star, L, "star_sci_tech_attribute", Some("regular"), "k4_growth_or_scale.revenue_latest", rev_latest, "300000000", "0.01"),
        c(NEW, Star, L, "star_sci_tech_attribute", Some("exception_patents"), "invention_patents_50", patents, "50", "1"),
        c(NEW, Star, L, "star_1", Some("a"), "expected_market_value", emv, "1000000000", "0.01"),
        c(NEW, Star, L, "star_1", Some("a"), "net_profit_each_2y", np_prev, "0", "0.01"),
        c(NEW, Star, L, "star_1", Some("a"), "net_profit_sum_2y", np_sum2, "50000000", "0.01"),
        c(NEW, Star, L, "star_1", Some("b"), "net_profit_latest", np_latest, "0", "0.01"),
        c(NEW, Star, L, "star_1", Some("b"), "revenue_latest", rev_latest, "100000000", "0.01"),
        c(NEW, Star, L, "star_2", None, "expected_market_value", emv, "1500000000", "0.01"),
        c(NEW, Star, L, "star_2", None, "revenue_latest", rev_latest, "200000000", "0.01"),
        c(NEW, Star, L, "star_2", None, "rd_ratio_3y", rd_ratio3, "15", "0.01"),
        c(NEW, Star, L, "star_3", None, "expected_market_value", emv, "2000000000", "0.01"),
        c(NEW, Star, L, "star_3", None, "revenue_latest", rev_latest, "300000000", "0.01"),
        c(NEW, Star, L, "star_3", None, "operating_cash_flow_sum_3y", ocf_sum3, "100000000", "0.01"),
        c(NEW, Star, L, "star_4", None, "expected_market_value", emv, "3000000000", "0.01"),
        c(NEW, Star, L, "star_4", None, "revenue_latest", rev_latest, "300000000", "0.01"),
        c(NEW, Star, L, "star_5", None, "expected_market_value", emv, "4000000000", "0.01"),
        // STAR before 2024-04-30: the old 科创属性 figures.
        c(OLD, Star, L, "star_sci_tech_attribute", Some("regular"), "k1_rd.rd_sum_3y", rd_sum3, "60000000", "0.01"),
        c(OLD, Star, L, "star_sci_tech_attribute", Some("regular"), "k3_invention_patents", patents, "5", "1"),
        c(OLD, Star, L, "star_sci_tech_attribute", Some("regular"), "k4_growth_or_scale.revenue_cagr_3y", rev_cagr3, "20", "0.01"),
        // ChiNext 2024.
        c(NEW, Chinext, L, "chinext_1", None, "net_profit_each_2y", np_prev, "0", "0.01"),
        c(NEW, Chinext, L, "chinext_1", None, "net_profit_sum_2y", np_sum2, "100000000", "0.01"),
        c(NEW, Chinext, L, "chinext_1", None, "net_profit_latest", np_latest, "60000000", "0.01"),
        c(NEW, Chinext, L, "chinext_2", None, "expected_market_value", emv, "1500000000", "0.01"),
        c(NEW, Chinext, L, "chinext_2", None, "net_profit_latest", np_latest, "0", "0.01"),
        c(NEW, Chinext, L, "chinext_2", None, "revenue_latest", rev_latest, "400000000", "0.01"),
        c(NEW, Chinext, L, "chinext_3", None, "expected_market_value", emv, "5000000000", "0.01"),
        c(NEW, Chinext, L, "chinext_3", None, "revenue_latest", rev_latest, "300000000", "0.01"),
        c(NEW, Chinext, L, "chinext_positioning", Some("cp_1"), "rd_cagr_3y", rd_cagr3, "15", "0.01"),
        c(NEW, Chinext, L, "chinext_positioning", Some("cp_1"), "rd_latest", rd_latest, "10000000", "0.01"),
        c(NEW, Chinext, L, "chinext_positioning", Some("cp_1"), "revenue_growth_or_scale.revenue_cagr_3y", rev_cagr3, "25", "0.01"),
        c(NEW, Chinext, L, "chinext_positioning", Some("cp_1"), "revenue_growth_or_scale.revenue_latest_exemption", rev_latest, "300000000", "0.01"),
        c(NEW, Chinext, L, "chinext_positioning", Some("cp_2"), "rd_sum_3y", rd_sum3, "50000000", "0.01"),
        c(NEW, Chinext, L, "chinext_positioning", Some("cp_3"), "revenue_growth_or_scale.revenue_cagr_3y", rev_cagr3, "30", "0.01"),
        // ChiNext 2020 set.
        c(OLD, Chinext, L, "chinext_1", None, "net_profit_sum_2y", np_sum2, "50000000", "0.01"),
        c(OLD, Chinext, L, "chinext_2", None, "expected_market_value", emv, "1000000000", "0.01"),
        c(OLD, Chinext, L, "chinext_2", None, "revenue_latest", rev_latest, "100000000", "0.01"),
        c(OLD, Chinext, L, "chinext_positioning", Some("cp_1"), "revenue_growth_or_scale.revenue_cagr_3y", rev_cagr3, "20", "0.01"),
        // NEEQ listing.
        c(NEW, Neeq, L, "neeq_general", None, "full_fiscal_years_operating", full_years, "2", "1"),
        c(NEW, Neeq, L, "neeq_general", None, "share_capital", share_capital, "5000000", "0.01"),
        c(NEW, Neeq, L, "neeq_general", None, "net_assets_per_share", net_assets_per_share, "1", "0.01"),
        c(NEW, Neeq, L, "neeq_1", Some("a"), "net_profit_each_2y", np_prev, "0", "0.01"),
        c(NEW, Neeq, L, "neeq_1", Some("a"), "net_profit_sum_2y", np_sum2, "8000000", "0.01"),
        c(NEW, Neeq, L, "neeq_1", Some("b"), "net_profit_latest", np_latest, "6000000", "0.01"),
        c(NEW, Neeq, L, "neeq_2", Some("a"), "revenue_average_2y", rev_avg2, "30000000", "0.01"),
        c(NEW, Neeq, L, "neeq_2", Some("a"), "revenue_growth", rev_growth, "20", "0.01"),
        c(NEW, Neeq, L, "neeq_2", Some("b"), "revenue_average_2y", rev_avg2, "50000000", "0.01"),
        c(NEW, Neeq, L, "neeq_2", Some("b"), "operating_cash_flow_latest", ocf_latest, "0", "0.01"),
        c(NEW, Neeq, L, "neeq_3", None, "revenue_latest", rev_latest, "30000000", "0.01"),
        c(NEW, Neeq, L, "neeq_3", None, "rd_ratio_2y", rd_ratio2, "5", "0.01"),
        c(NEW, Neeq, L, "neeq_4", None, "rd_sum_2y", rd_sum2, "10000000", "0.01"),
        c(NEW, Neeq, L, "neeq_4", None, "equity_financing_24m", equity_24m, "20000000", "0.01"),
        c(NEW, Neeq, L, "neeq_5", None, "market_value_at_placement", emv, "100000000", "0.01"),
        // NEEQ innovation layer.
        c(NEW, Neeq, Inn, "neeq_innovation_common", None, "net_assets_not_negative", net_assets, "0", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_1", None, "net_profit_each_2y", np_prev, "10000000", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_1", None, "weighted_roe_average_2y", roe_avg2, "6", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_1", None, "share_capital", share_capital, "20000000", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_2", None, "revenue_average_2y", rev_avg2, "80000000", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_2", None, "revenue_growing", rev_growth_prev, "0", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_2", None, "revenue_cagr_2y", rev_cagr3, "30", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_2", None, "share_capital", share_capital, "20000000", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_3", None, "rd_sum_2y", rd_sum2, "25000000", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_3", None, "equity_financing_24m", equity_24m, "40000000", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_3", None, "placement_market_value.lowest_post_money_valuation_24m", min_valuation_24m, "300000000", "0.01"),
        c(NEW, Neeq, Inn, "neeq_innovation_4", None, "share_capital", share_capital, "50000000", "0.01"),
    ]
}

fn standard<'a>(r: &'a VenueReadiness, code: &str) -> &'a StandardResult {
    r.entry_conditions
        .iter()
        .chain(&r.standards)
        .find(|s| s.code == code)
        .unwrap_or_else(|| panic!("no standard {code} in {}", r.rule_set_version))
}

/// The criteria of one variant of a standard, wherever the evaluator placed it.
fn variant_criteria<'a>(s: &'a StandardResult, variant: Option<&str>) -> (Verdict, &'a [CriterionResult]) {
    match variant {
        None => (s.verdict, &s.criteria),
        Some(v) if s.variant.as_deref() == Some(v) => {
            (if s.other_variants.is_empty() { s.verdict } else { variant_verdict(&s.criteria) }, &s.criteria)
        }
        Some(v) => {
            let o = s.other_variants.iter().find(|o| o.variant == v).unwrap();
            (o.verdict, &o.criteria)
        }
    }
}

fn variant_verdict(criteria: &[CriterionResult]) -> Verdict {
    all_of(criteria.iter().map(|c| c.verdict))
}

fn find_criterion<'a>(criteria: &'a [CriterionResult], path: &str) -> &'a CriterionResult {
    let mut parts = path.split('.');
    let first = parts.next().unwrap();
    let mut c = criteria.iter().find(|c| c.name == first).unwrap_or_else(|| panic!("no criterion {first}"));
    for p in parts {
        c = c.any_of.iter().find(|o| o.name == p).unwrap_or_else(|| panic!("no option {p}"));
    }
    c
}

fn expected(op: Comparison) -> [Verdict; 3] {
    use Verdict::{Met as M, NotMet as N};
    match op {
        Comparison::Gte => [M, N, M],
        Comparison::Gt => [N, N, M],
        Comparison::Lte => [M, M, N],
        Comparison::Lt => [N, M, N],
    }
}

#[test]
fn strong_firm_is_eligible_everywhere() {
    let b = book();
    for on in [NEW, OLD] {
        let all = b.evaluate_all(&strong(on));
        for r in &all {
            assert!(r.eligible, "{on} {} {}: {:#?}", r.venue, r.scope, r);
            assert_eq!(r.verdict, Verdict::Met);
            assert!(r.closest_standard.is_none());
            let every: Vec<&str> = r.standards.iter().map(|s| s.code.as_str()).collect();
            assert_eq!(r.eligible_standards, every, "{on} {}", r.venue);
        }
    }
}

#[test]
fn every_threshold_at_just_below_and_just_above() {
    let b = book();
    for case in cases() {
        let at = d(case.at);
        let step = d(case.step);
        let mut got = Vec::new();
        let mut op = None;
        for x in [at, at - step, at + step] {
            let mut input = strong(case.on);
            (case.set)(&mut input, x);
            let r = b.evaluate(case.venue, case.scope, &input).unwrap();
            let s = standard(&r, case.code);
            let (variant_verdict, criteria) = variant_criteria(s, case.variant);
            let c = find_criterion(criteria, case.path);
            op = c.comparison;
            // Only the criterion under test moves, so the variant follows it — except for an
            // option of an "any of", where the other option may still carry the variant.
            if !case.path.contains('.') {
                assert_eq!(variant_verdict, c.verdict, "{} {} {} at {x}: {c:#?}", case.on, case.code, case.path);
            }
            if c.verdict == Verdict::NotMet {
                assert!(c.shortfall.is_some() && c.actual.is_some(), "{} {}: {c:#?}", case.code, case.path);
            }
            got.push(c.verdict);
        }
        let op = op.expect("criterion compares a threshold");
        assert_eq!(got, expected(op), "{} {} {} {:?} ({op})", case.on, case.venue, case.code, case.path);
    }
}

#[test]
fn every_builtin_threshold_is_covered_by_the_table() {
    // Criteria without a numeric threshold of their own (facts, attestations, industry lists)
    // are tested separately; everything numeric must appear in `cases()`.
    let b = book();
    let covered: Vec<(String, String, String)> = cases()
        .iter()
        .map(|c| {
            let version = b.rule_set_in_force(c.venue, c.scope, date(c.on)).unwrap().version.clone();
            (version, c.code.to_owned(), c.path.to_owned())
        })
        .collect();
    let exempt = [
        // Same figure as a covered sibling in another variant or a stated exemption.
        ("chinext_positioning", "revenue_growth_or_scale.revenue_latest_exemption"),
        ("chinext_positioning", "rd_latest"),
        ("chinext_positioning", "rd_sum_3y"),
        ("chinext_positioning", "rd_cagr_3y"),
        ("star_1", "expected_market_value"),
        ("star_1", "revenue_latest"),
        ("star_1", "net_profit_latest"),
        ("star_1", "net_profit_each_2y"),
        ("star_1", "net_profit_sum_2y"),
        ("star_2", "expected_market_value"),
        ("star_2", "revenue_latest"),
        ("star_2", "rd_ratio_3y"),
        ("star_3", "expected_market_value"),
        ("star_3", "revenue_latest"),
        ("star_3", "operating_cash_flow_sum_3y"),
        ("star_4", "expected_market_value"),
        ("star_4", "revenue_latest"),
        ("star_5", "expected_market_value"),
        ("star_sci_tech_attribute", "k1_rd.rd_ratio_3y"),
        ("star_sci_tech_attribute", "k2_rd_staff_share"),
        ("star_sci_tech_attribute", "k4_growth_or_scale.revenue_latest"),
        ("star_sci_tech_attribute", "invention_patents_50"),
        ("chinext_1", "net_profit_each_2y"),
        ("chinext_2", "net_profit_latest"),
        ("chinext_3", "expected_market_value"),
        ("chinext_3", "revenue_latest"),
    ];
    let mut uncovered = Vec::new();
    for set in b.rule_sets() {
        for s in set.entry_conditions.iter().chain(&set.standards) {
            let variants: Vec<&Vec<Criterion>> = match (&s.criteria, &s.variants) {
                (Some(c), _) => vec![c],
                (_, Some(v)) => v.iter().map(|v| &v.criteria).collect(),
                _ => vec![],
            };
            for criteria in variants {
                for c in criteria {
                    let mut paths = Vec::new();
                    if c.threshold.is_some() {
                        paths.push(c.name.clone());
                    }
                    for o in c.any_of.iter().flatten().filter(|o| o.threshold.is_some()) {
                        paths.push(format!("{}.{}", c.name, o.name));
                    }
                    for p in paths {
                        let key = (set.version.clone(), s.code.clone(), p.clone());
                        let same_version_covered = covered.contains(&key);
                        let older_exempt =
                            set.version.starts_with("star-2021") || set.version.starts_with("chinext-2020");
                        let exempt = exempt.contains(&(s.code.as_str(), p.as_str())) && older_exempt;
                        if !same_version_covered && !exempt {
                            uncovered.push(key);
                        }
                    }
                }
            }
        }
    }
    assert!(uncovered.is_empty(), "thresholds without a boundary case: {uncovered:#?}");
}

#[test]
fn net_profit_uses_the_lower_of_before_and_after_non_recurring_items() {
    let b = book();
    for (net_profit, deducted, lower) in [
        ("200000000", "10000000", "10000000"),
        ("10000000", "200000000", "10000000"),
        ("-5000000", "3000000", "-5000000"),
    ] {
        let mut input = strong(NEW);
        let y = year_mut(&mut input, 0);
        y.net_profit = Some(d(net_profit));
        y.net_profit_deducted = Some(d(deducted));
        let r = b.evaluate(Venue::Chinext, RuleScope::Listing, &input).unwrap();
        let c = find_criterion(&standard(&r, "chinext_1").criteria, "net_profit_latest");
        assert_eq!(c.actual, Some(d(lower)), "{net_profit}/{deducted}");
        assert_eq!(c.verdict, Verdict::NotMet);
        assert!(c.note.as_deref().unwrap().contains("孰低"), "{c:?}");
        assert_eq!(c.fiscal_years, vec![2024]);
    }
}

#[test]
fn missing_data_is_unknown_and_named() {
    let b = book();
    let mut input = strong(NEW);
    year_mut(&mut input, 0).net_profit_deducted = None;
    let r = b.evaluate(Venue::Chinext, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "chinext_1").criteria, "net_profit_latest");
    assert_eq!(c.verdict, Verdict::Unknown);
    assert_eq!(c.missing, vec!["net_profit_deducted 2024"]);
    assert_eq!(c.actual, None);
    assert_eq!(standard(&r, "chinext_1").verdict, Verdict::Unknown);
    // chinext_3 does not need profit, so the venue is still eligible.
    assert!(r.eligible);
    assert_eq!(r.eligible_standards, vec!["chinext_3"]);

    // A whole year missing names every field it needed.
    let mut input = strong(NEW);
    input.financials.retain(|y| y.fiscal_year != 2023);
    let r = b.evaluate(Venue::Star, RuleScope::Listing, &input).unwrap();
    let s1 = standard(&r, "star_1");
    let (_, a) = variant_criteria(s1, Some("a"));
    let sum = find_criterion(a, "net_profit_sum_2y");
    assert_eq!(sum.verdict, Verdict::Unknown);
    assert_eq!(sum.missing, vec!["net_profit 2023", "net_profit_deducted 2023"]);
    // Variant b only needs 2024, so star_1 is still met.
    assert_eq!(s1.verdict, Verdict::Met);
    assert_eq!(s1.variant.as_deref(), Some("b"));

    // "Each year": a known failing year decides not_met even with another year missing.
    let mut input = strong(NEW);
    input.financials.retain(|y| y.fiscal_year != 2023);
    set_np(&mut input, 0, d("-1"));
    let r = b.evaluate(Venue::Chinext, RuleScope::Listing, &input).unwrap();
    let each = find_criterion(&standard(&r, "chinext_1").criteria, "net_profit_each_2y");
    assert_eq!(each.verdict, Verdict::NotMet);
    assert_eq!(each.actual, Some(d("-1")));

    // Current facts: expected market value.
    let mut input = strong(NEW);
    input.expected_market_value = None;
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(!r.eligible);
    let closest = r.closest_standard.unwrap();
    assert!(closest.missing.contains(&"expected_market_value".to_owned()), "{closest:?}");
}

#[test]
fn chinext_rule_change_applies_by_date() {
    // Net profit 2,500万 (2022) and 3,000万 (2023): cumulative 5,500万 passes the 2020 standard
    // 1 (cumulative ≥ 5,000万) and fails the 2024 one (cumulative ≥ 1亿, latest ≥ 6,000万).
    let b = book();
    let firm = |on: &str| {
        let mut input = strong(on);
        set_np(&mut input, 1, d("25000000"));
        set_np(&mut input, 0, d("30000000"));
        input.expected_market_value = Some(d("500000000"));
        input
    };
    let before = b.evaluate(Venue::Chinext, RuleScope::Listing, &firm("2024-04-29")).unwrap();
    assert_eq!(before.rule_set_version, "chinext-2020-06-12");
    assert_eq!(before.latest_fiscal_year, 2023);
    assert_eq!(standard(&before, "chinext_1").verdict, Verdict::Met);
    assert!(before.eligible);
    assert_eq!(before.eligible_standards, vec!["chinext_1"]);

    let after = b.evaluate(Venue::Chinext, RuleScope::Listing, &firm("2024-04-30")).unwrap();
    assert_eq!(after.rule_set_version, "chinext-2024-04-30");
    assert_eq!(after.latest_fiscal_year, 2023);
    let s = standard(&after, "chinext_1");
    assert_eq!(s.verdict, Verdict::NotMet);
    let sum = find_criterion(&s.criteria, "net_profit_sum_2y");
    assert_eq!((sum.actual, sum.shortfall), (Some(d("55000000")), Some(d("45000000"))));
    let latest = find_criterion(&s.criteria, "net_profit_latest");
    assert_eq!((latest.actual, latest.shortfall), (Some(d("30000000")), Some(d("30000000"))));
    assert!(!after.eligible);
    // chinext_2 misses only on market value (one criterion), chinext_1 on two: it is closer.
    let closest = after.closest_standard.unwrap();
    assert_eq!(closest.code, "chinext_2");
    let gaps: Vec<&str> = closest.not_met.iter().map(|g| g.criterion.as_str()).collect();
    assert_eq!(gaps, vec!["expected_market_value"]);
}

#[test]
fn rule_sets_are_selected_by_date() {
    let b = book();
    let v = |venue, scope, on: &str| b.rule_set_in_force(venue, scope, date(on)).map(|s| s.version.as_str());
    assert_eq!(v(Venue::Bse, RuleScope::Listing, "2021-11-14"), None);
    assert_eq!(v(Venue::Bse, RuleScope::Listing, "2021-11-15"), Some("bse-2021-11-15"));
    assert_eq!(v(Venue::Star, RuleScope::Listing, "2024-04-29"), Some("star-2021-04-16"));
    assert_eq!(v(Venue::Star, RuleScope::Listing, "2024-04-30"), Some("star-2024-04-30"));
    assert_eq!(v(Venue::Chinext, RuleScope::Listing, "2020-06-11"), None);
    assert_eq!(v(Venue::Chinext, RuleScope::Listing, "2024-04-29"), Some("chinext-2020-06-12"));
    assert_eq!(v(Venue::Chinext, RuleScope::Listing, "2030-01-01"), Some("chinext-2024-04-30"));
    assert_eq!(v(Venue::Neeq, RuleScope::InnovationLayer, "2025-01-01"), Some("neeq-innovation-layer-2023-02-17"));
    assert_eq!(v(Venue::RegionalSrdiBoard, RuleScope::Listing, "2025-01-01"), Some("regional-srdi-board-2022-11-21"));

    let mut input = strong("2021-06-30");
    input.evaluation_date = date("2021-06-30");
    assert_eq!(
        b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap_err(),
        NoRuleSetInForce { venue: Venue::Bse, scope: RuleScope::Listing, date: date("2021-06-30") }
    );
    assert!(b.evaluate_venue(Venue::Bse, &input).is_err());
    // evaluate_all skips what is not in force: only ChiNext and STAR (2021-04-16) exist then.
    let all: Vec<Venue> = b.evaluate_all(&input).iter().map(|r| r.venue).collect();
    assert_eq!(all, vec![Venue::Star, Venue::Chinext]);
}

#[test]
fn evaluate_all_covers_every_venue_and_scope_in_order() {
    let b = book();
    let all = b.evaluate_all(&strong(NEW));
    let keys: Vec<(Venue, RuleScope)> = all.iter().map(|r| (r.venue, r.scope)).collect();
    assert_eq!(
        keys,
        vec![
            (Venue::Bse, RuleScope::Listing),
            (Venue::Star, RuleScope::Listing),
            (Venue::Chinext, RuleScope::Listing),
            (Venue::Neeq, RuleScope::Listing),
            (Venue::Neeq, RuleScope::InnovationLayer),
            (Venue::RegionalSrdiBoard, RuleScope::Listing),
        ]
    );
    let neeq = b.evaluate_venue(Venue::Neeq, &strong(NEW)).unwrap();
    assert_eq!(neeq.len(), 2);
    assert_eq!(neeq[0], all[3]);
}

#[test]
fn latest_fiscal_year_rule() {
    let mut input = strong(NEW);
    assert_eq!(input.latest_fiscal_year(), 2024);
    input.evaluation_date = date("2025-01-01");
    assert_eq!(input.latest_fiscal_year(), 2024);
    input.evaluation_date = date("2024-12-31");
    assert_eq!(input.latest_fiscal_year(), 2023);
    // An override can only move it back (e.g. last audited year), never forward.
    input.latest_fiscal_year = Some(2022);
    assert_eq!(input.latest_fiscal_year(), 2022);
    input.latest_fiscal_year = Some(2030);
    assert_eq!(input.latest_fiscal_year(), 2023);
}

#[test]
fn bse_entry_conditions() {
    let b = book();
    // A basic-layer firm meets the financial standards but not the entry conditions.
    let mut input = strong(NEW);
    input.neeq_layer = Some(NeeqLayer::Basic);
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    assert!(!r.eligible);
    assert!(r.eligible_standards.is_empty());
    let closest = r.closest_standard.unwrap();
    assert_eq!(closest.verdict, Verdict::Met);
    assert_eq!(closest.blocking_entry_conditions, vec!["bse_entry_neeq"]);
    // Not on NEEQ at all: zero months, said in the note.
    let mut input = strong(NEW);
    input.neeq_layer = None;
    input.neeq_listed_on = None;
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "bse_entry_neeq").criteria, "months_on_neeq");
    assert_eq!((c.verdict, c.actual), (Verdict::NotMet, Some(d("0"))));
    // On NEEQ but the listing date unknown.
    let mut input = strong(NEW);
    input.neeq_listed_on = None;
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "bse_entry_neeq").criteria, "months_on_neeq");
    assert_eq!((c.verdict, c.missing.clone()), (Verdict::Unknown, vec!["neeq_listed_on".to_owned()]));
    // Finance and real estate are excluded.
    let mut input = strong(NEW);
    input.industry_code = Some("K7010".to_owned());
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    assert_eq!(standard(&r, "bse_entry_sector").verdict, Verdict::NotMet);
}

#[test]
fn whole_months_on_neeq() {
    let b = book();
    for (listed, months, verdict) in [
        ("2024-06-30", "12", Verdict::Met),
        ("2024-07-01", "11", Verdict::NotMet),
        ("2024-06-29", "12", Verdict::Met),
        ("2026-01-01", "0", Verdict::NotMet),
    ] {
        let mut input = strong(NEW);
        input.neeq_listed_on = Some(date(listed));
        let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
        let c = find_criterion(&standard(&r, "bse_entry_neeq").criteria, "months_on_neeq");
        assert_eq!((c.actual, c.verdict), (Some(d(months)), verdict), "{listed}");
    }
}

#[test]
fn chinext_industry_negative_list() {
    let b = book();
    for (code, justified, verdict) in [
        ("C3562", None, Verdict::Met),
        // Not supported in principle, unless the sponsor justifies it: unknown until asserted.
        ("C1512", None, Verdict::Unknown),
        ("C1512", Some(false), Verdict::NotMet),
        ("C1512", Some(true), Verdict::Met),
        ("C1411", None, Verdict::Met),
        ("G5430", Some(false), Verdict::NotMet),
        ("", None, Verdict::Unknown),
    ] {
        let mut input = strong(NEW);
        input.industry_code = Some(code.to_owned());
        if let Some(j) = justified {
            input.attestations.insert("chinext_traditional_industry_integration".to_owned(), j.into());
        }
        let r = b.evaluate(Venue::Chinext, RuleScope::Listing, &input).unwrap();
        assert_eq!(standard(&r, "chinext_industry").verdict, verdict, "{code} {justified:?}");
    }
}

#[test]
fn cagr_is_exact_at_the_boundary_and_undefined_from_a_zero_base() {
    let b = book();
    let mut input = strong(NEW);
    rev_cagr3(&mut input, d("25"));
    let r = b.evaluate(Venue::Star, RuleScope::Listing, &input).unwrap();
    let attr = standard(&r, "star_sci_tech_attribute");
    let (_, regular) = variant_criteria(attr, Some("regular"));
    let cagr = find_criterion(regular, "k4_growth_or_scale.revenue_cagr_3y");
    assert_eq!((cagr.verdict, cagr.actual), (Verdict::Met, Some(d("25"))));
    assert_eq!(cagr.fiscal_years, vec![2022, 2023, 2024]);

    year_mut(&mut input, 2).revenue = Some(Decimal::ZERO);
    let r = b.evaluate(Venue::Star, RuleScope::Listing, &input).unwrap();
    let (_, regular) = variant_criteria(standard(&r, "star_sci_tech_attribute"), Some("regular"));
    let cagr = find_criterion(regular, "k4_growth_or_scale.revenue_cagr_3y");
    assert_eq!(cagr.verdict, Verdict::NotMet);
    assert!(cagr.note.as_deref().unwrap().contains("CAGR undefined"), "{cagr:?}");
}

#[test]
fn closest_standard_has_fewest_unmet_then_smallest_shortfall() {
    let b = book();
    // A small firm: revenue 8,000万, R&D 800万 (10%), profit 1,000万, market value 3亿.
    let mut input = strong(NEW);
    for y in &mut input.financials {
        y.revenue = Some(d("80000000"));
        y.rd_expense = Some(d("8000000"));
        y.net_profit = Some(d("10000000"));
        y.net_profit_deducted = Some(d("10000000"));
    }
    input.expected_market_value = Some(d("300000000"));
    for y in &mut input.financials {
        y.weighted_roe = Some(d("20"));
        y.weighted_roe_deducted = Some(d("20"));
    }
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    assert!(!r.eligible);
    // bse_1: one miss each way — (a) profit 1,000万 < 1,500万 (rel. 1/3), (b) profit < 2,500万
    // (rel. 0.6); bse_2: market value and revenue growth; bse_3: two misses; bse_4: two misses.
    let closest = r.closest_standard.unwrap();
    assert_eq!((closest.code.as_str(), closest.variant.as_deref()), ("bse_1", Some("a")));
    assert_eq!(closest.not_met.len(), 1);
    let gap = &closest.not_met[0];
    assert_eq!(gap.criterion, "net_profit_each_2y");
    assert_eq!(
        (gap.actual, gap.threshold, gap.shortfall),
        (Some(d("10000000")), Some(d("15000000")), Some(d("5000000")))
    );
    assert_eq!(gap.unit, Some(Unit::Yuan));
}

#[test]
fn regional_board_layers_follow_tier_and_exchange_standards() {
    let b = book();
    let layers = |input: &ReadinessInput| {
        let all = b.evaluate_all(input);
        let r = all.iter().find(|r| r.venue == Venue::RegionalSrdiBoard).unwrap().clone();
        (
            r.eligible_standards.clone(),
            b.evaluate(Venue::RegionalSrdiBoard, RuleScope::Listing, input).unwrap().eligible_standards,
        )
    };
    let mut input = strong(NEW);
    input.tier = Some(Tier::ProvincialSrdi);
    input.in_reserve_pool = false;
    // Meets exchange standards → cultivation layer; both evaluation paths agree.
    let (via_all, alone) = layers(&input);
    assert_eq!(via_all, vec!["regional_incubation", "regional_standardization", "regional_cultivation"]);
    assert_eq!(via_all, alone);
    // Without exchange-level financials: no cultivation layer.
    for y in &mut input.financials {
        y.revenue = Some(d("20000000"));
        y.net_profit = Some(d("-1"));
        y.net_profit_deducted = Some(d("-1"));
        y.rd_expense = Some(d("1000000"));
    }
    input.expected_market_value = Some(d("100000000"));
    let (via_all, alone) = layers(&input);
    assert_eq!(via_all, vec!["regional_incubation", "regional_standardization"]);
    assert_eq!(via_all, alone);
    // No tier and nothing asserted: the priority-entrant test is unknown, not failed.
    input.tier = None;
    let r = b.evaluate(Venue::RegionalSrdiBoard, RuleScope::Listing, &input).unwrap();
    assert_eq!(standard(&r, "regional_incubation").verdict, Verdict::Unknown);
}

#[test]
fn rule_sets_round_trip_through_json() {
    for set in builtin_rule_sets().unwrap() {
        let json = serde_json::to_string_pretty(&set).unwrap();
        let back = parse_rule_set(&json).unwrap();
        assert_eq!(back, set);
    }
}

fn criteria(s: &mut RuleSet, i: usize) -> &mut Vec<Criterion> {
    s.standards[i].criteria.as_mut().unwrap()
}

#[test]
fn validate_rejects_malformed_sets_with_a_path() {
    let base = || builtin_rule_sets().unwrap().into_iter().find(|s| s.version == "bse-2021-11-15").unwrap();
    let mut cases: Vec<(RuleSet, &str)> = Vec::new();

    let mut s = base();
    criteria(&mut s, 1)[1].threshold = None;
    cases.push((s, "standards[1].criteria[1].threshold"));

    let mut s = base();
    criteria(&mut s, 3)[1].years = Some(9);
    cases.push((s, "standards[3].criteria[1].years"));

    let mut s = base();
    criteria(&mut s, 1)[0].aggregate = Some(Aggregate::Latest);
    cases.push((s, "standards[1].criteria[0].aggregate"));

    let mut s = base();
    criteria(&mut s, 1)[2].aggregate = None;
    cases.push((s, "standards[1].criteria[2].aggregate"));

    let mut s = base();
    criteria(&mut s, 2)[2].over = Some(Metric::ExpectedMarketValue);
    cases.push((s, "standards[2].criteria[2].over"));

    let mut s = base();
    s.standards[2].code = "bse_1".to_owned();
    cases.push((s, "standards[2].code"));

    let mut s = base();
    s.standards[0].variants.as_mut().unwrap()[1].criteria.clear();
    cases.push((s, "standards[0].variants[1].criteria"));

    let mut s = base();
    s.standards[3].criteria = None;
    cases.push((s, "standards[3]"));

    let mut s = base();
    s.entry_conditions[0].criteria.as_mut().unwrap()[0].threshold = Some(d("1"));
    cases.push((s, "entry_conditions[0].criteria[0].threshold"));

    let mut s = base();
    s.entry_conditions[2].criteria.as_mut().unwrap()[0].industry_not_in = Some(vec!["finance".to_owned()]);
    cases.push((s, "entry_conditions[2].criteria[0].industry_not_in[0]"));

    let mut s = base();
    s.effective_to = Some(date("2020-01-01"));
    cases.push((s, "effective_to"));

    let mut s = base();
    s.standards.clear();
    cases.push((s, "standards"));

    let mut s = base();
    criteria(&mut s, 1)[3].name = "Operating Cash".to_owned();
    cases.push((s, "standards[1].criteria[3].name"));

    for (set, path) in cases {
        let e = set.validate().unwrap_err();
        assert_eq!(e.path, path, "{e}");
    }

    // Nested any_of is refused; so is a score reference in a listing set.
    let star = builtin_rule_sets().unwrap().into_iter().find(|s| s.version == "star-2024-04-30").unwrap();
    let mut s = star.clone();
    let k1 = &mut s.entry_conditions[0].variants.as_mut().unwrap()[0].criteria[0];
    let inner = k1.clone();
    k1.any_of.as_mut().unwrap()[0] = inner;
    assert_eq!(s.validate().unwrap_err().path, "entry_conditions[0].variants[0].criteria[0].any_of[0].any_of");
    let mut s = star;
    s.standards[4].criteria.as_mut().unwrap()[1] = Criterion {
        attestation: None,
        score: Some("innovative_sme".to_owned()),
        op: Some(Comparison::Gte),
        threshold: Some(d("60")),
        ..s.standards[4].criteria.as_ref().unwrap()[1].clone()
    };
    assert_eq!(s.validate().unwrap_err().path, "standards[4].criteria[1].score");
}

#[test]
fn parse_reports_typos_and_unknown_vocabulary() {
    let json = include_str!("../../../rules/listing/bse-2021-11-15.json");
    let typo = json.replacen("\"threshold\": \"200000000\"", "\"threshhold\": \"200000000\"", 1);
    let e = parse_rule_set(&typo).unwrap_err();
    assert!(e.message.contains("threshhold"), "{e}");
    let bad_metric = json.replacen("\"metric\": \"net_assets\"", "\"metric\": \"net_asets\"", 1);
    let e = parse_rule_set(&bad_metric).unwrap_err();
    assert!(e.message.contains("net_asets"), "{e}");
}

#[test]
fn overlapping_versions_are_refused() {
    let sets = builtin_rule_sets().unwrap();
    let mut dup = sets.iter().find(|s| s.version == "chinext-2024-04-30").unwrap().clone();
    dup.version = "chinext-copy".to_owned();
    dup.effective_from = date("2025-01-01");
    let mut all = sets.clone();
    all.push(dup);
    let e = RuleBook::new(all).unwrap_err();
    assert_eq!(e.path, format!("[{}].effective_from", sets.len()));
    // A corrected figure is a data edit: replace the set and the book uses it.
    let mut edited = sets.clone();
    let bse = edited.iter_mut().find(|s| s.version == "bse-2021-11-15").unwrap();
    bse.standards[3].criteria.as_mut().unwrap()[0].threshold = Some(d("1600000000"));
    let b = RuleBook::new(edited).unwrap();
    let mut input = strong(NEW);
    input.expected_market_value = Some(d("1500000000"));
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    assert_eq!(standard(&r, "bse_4").verdict, Verdict::NotMet);
}

#[test]
fn vocabularies_serialize_as_their_wire_names() {
    fn check<T: serde::Serialize + std::fmt::Display>(all: &[T]) {
        for v in all {
            assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{v}\""));
        }
    }
    check(Metric::ALL);
    check(Aggregate::ALL);
    check(Comparison::ALL);
    check(Fact::ALL);
    check(Confidence::ALL);
    check(Unit::ALL);
    check(Verdict::ALL);
    check(RuleScope::ALL);
    check(ChoiceInput::ALL);
    check(IpClass::ALL);
    check(RdInstitutionLevel::ALL);
    check(ProductChainRole::ALL);
    check(ProvincialKeyIndustry::ALL);
    check(NicheShareRank::ALL);
    check(ListingProgress::ALL);
}

#[test]
fn output_shape_is_snake_case_json_with_decimal_strings() {
    let b = book();
    let mut input = strong(NEW);
    input.expected_market_value = Some(d("300000000.00"));
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    let v = serde_json::to_value(&r).unwrap();
    for key in ["venue", "rule_set_version", "eligible", "eligible_standards", "closest_standard", "standards"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let c = &v["standards"][1]["criteria"][0];
    assert_eq!(v["standards"][1]["code"], "bse_2");
    assert_eq!(c["name"], "expected_market_value");
    assert_eq!(c["verdict"], "not_met");
    assert_eq!(c["actual"], "300000000.00");
    assert_eq!(c["threshold"], "400000000");
    assert_eq!(c["shortfall"], "100000000");
    assert!(c["fiscal_years"].is_array());
}

#[test]
fn fiscal_years_serialize_as_a_list_and_must_be_consecutive() {
    let y = FiscalYears::span(2022, 2024);
    assert_eq!(serde_json::to_string(&y).unwrap(), "[2022,2023,2024]");
    assert_eq!(serde_json::from_str::<FiscalYears>("[2022,2023,2024]").unwrap(), y);
    assert_eq!(serde_json::from_str::<FiscalYears>("[]").unwrap(), FiscalYears::default());
    assert!(serde_json::from_str::<FiscalYears>("[2022,2024]").is_err());
    assert!(serde_json::from_str::<FiscalYears>("[2024,2023]").is_err());
    assert_eq!(FiscalYears::span(2024, 2023).len(), 0);
}

#[test]
fn openapi_schemas_generate() {
    use utoipa::OpenApi;
    #[derive(OpenApi)]
    #[openapi(components(schemas(VenueReadiness, RuleSet, ReadinessInput, Verdict, Metric)))]
    struct Doc;
    let json = Doc::openapi().to_json().unwrap();
    for name in ["VenueReadiness", "CriterionResult", "RuleSet", "Criterion", "ReadinessInput", "SmeExtras"] {
        assert!(json.contains(&format!("\"{name}\"")), "{name} missing from the generated schemas");
    }
}

#[test]
fn weighted_roe_uses_the_lower_of_before_and_after_non_recurring_items() {
    let b = book();
    // (before, after 扣非, shown, verdict of BSE 1(b)'s 8% floor)
    let cases = [
        ("9", Some("7.9"), Some("7.9"), Verdict::NotMet),
        ("7.9", Some("9"), Some("7.9"), Verdict::NotMet),
        ("9", Some("8"), Some("8"), Verdict::Met),
        ("9", None, None, Verdict::Unknown),
    ];
    for (before, after, shown, verdict) in cases {
        let mut input = strong(NEW);
        let y = year_mut(&mut input, 0);
        y.weighted_roe = Some(d(before));
        y.weighted_roe_deducted = after.map(d);
        let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
        let (_, criteria) = variant_criteria(standard(&r, "bse_1"), Some("b"));
        let c = find_criterion(criteria, "weighted_roe_latest");
        assert_eq!((c.actual, c.verdict), (shown.map(d), verdict), "{before}/{after:?}");
        assert!(c.note.as_deref().unwrap().contains("孰低"), "{c:?}");
        if verdict == Verdict::Unknown {
            assert_eq!(c.missing, vec!["weighted_roe_deducted 2024".to_owned()]);
        }
    }
}

/// The latest fiscal year is the latest audited by the evaluation date, when audit dates are known.
#[test]
fn latest_fiscal_year_follows_the_audits() {
    // (audit dates of 2022, 2023, 2024; evaluation date; latest year; basis)
    let cases: &[([Option<&str>; 3], &str, i32, LatestYearBasis)] = &[
        ([None, None, None], "2025-03-01", 2024, LatestYearBasis::Assumed),
        ([Some("2023-04-20"), Some("2024-04-20"), Some("2025-04-20")], "2025-04-19", 2023, LatestYearBasis::Audited),
        ([Some("2023-04-20"), Some("2024-04-20"), Some("2025-04-20")], "2025-04-20", 2024, LatestYearBasis::Audited),
        ([Some("2023-04-20"), Some("2024-04-20"), None], "2025-12-31", 2023, LatestYearBasis::Audited),
        ([Some("2023-04-20"), None, None], "2023-04-19", 2022, LatestYearBasis::Assumed),
        ([Some("2023-04-20"), Some("2024-04-20"), Some("2025-04-20")], "2024-12-31", 2023, LatestYearBasis::Audited),
    ];
    for (audits, on, latest, basis) in cases {
        let mut input = strong(NEW);
        input.evaluation_date = date(on);
        for (i, a) in audits.iter().enumerate() {
            let fy = 2022 + i as i32;
            let y = input.financials.iter_mut().find(|y| y.fiscal_year == fy).unwrap();
            y.audited_on = a.map(date);
        }
        assert_eq!(input.latest_fiscal_year_and_basis(), (*latest, *basis), "{audits:?} on {on}");
        // The evaluators read their windows from it.
        let r = book().evaluate(Venue::Chinext, RuleScope::Listing, &input).unwrap();
        assert_eq!((r.latest_fiscal_year, r.latest_fiscal_year_basis), (*latest, *basis));
        let c = find_criterion(&standard(&r, "chinext_1").criteria, "net_profit_sum_2y");
        assert_eq!(c.fiscal_years, vec![latest - 1, *latest]);
    }
}

#[test]
fn a_self_declared_attestation_counts_and_is_marked() {
    use crate::domain::firm_inputs::AttestationSource;
    let b = book();
    let mut input = strong(NEW);
    input.attestations.insert(
        "star5_major_business_approved".to_owned(),
        Attested {
            holds: true,
            source: AttestationSource::SelfDeclared,
            stated_on: Some(date("2025-05-01")),
            document_ref: Some("国药监临〔2025〕12号".to_owned()),
        },
    );
    let r = b.evaluate(Venue::Star, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "star_5").criteria, "major_business_approved");
    assert_eq!(c.verdict, Verdict::Met);
    let used = c.attestation.as_ref().expect("attestation shown");
    assert_eq!((used.source, used.stated_on), (AttestationSource::SelfDeclared, Some(date("2025-05-01"))));
    assert!(c.note.as_deref().unwrap().contains("self-declared"), "{c:?}");
    // The office's statement carries no such note.
    input.attestations.insert("star5_major_business_approved".to_owned(), false.into());
    let r = b.evaluate(Venue::Star, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "star_5").criteria, "major_business_approved");
    assert_eq!(
        (c.verdict, c.attestation.as_ref().map(|a| a.source)),
        (Verdict::NotMet, Some(AttestationSource::Office))
    );
    assert!(c.note.is_none(), "{c:?}");
}

/// Rounds on record without a completeness date are a lower bound of what was raised.
#[test]
fn an_incomplete_financing_record_is_a_lower_bound() {
    let b = book();
    // (amount on record, record complete?, verdict of NEEQ 4's ≥ 2,000万 in 24 months)
    let cases = [
        ("20000000", false, Verdict::Met),
        ("19999999.99", false, Verdict::Unknown),
        ("19999999.99", true, Verdict::NotMet),
        ("20000000", true, Verdict::Met),
    ];
    for (amount, complete, verdict) in cases {
        let mut input = strong(NEW);
        equity_24m(&mut input, d(amount));
        input.equity_financings_partial = !complete;
        let r = b.evaluate(Venue::Neeq, RuleScope::Listing, &input).unwrap();
        let c = find_criterion(&standard(&r, "neeq_4").criteria, "equity_financing_24m");
        assert_eq!(c.verdict, verdict, "{amount} complete={complete}: {c:#?}");
        if verdict == Verdict::Unknown {
            assert_eq!(c.missing, vec!["equity_financings complete through 2025-06-30".to_owned()]);
        }
    }
    // A round without its valuation leaves the placement-valuation test open.
    let mut input = strong(NEW);
    min_valuation_24m(&mut input, d("400000000"));
    input.equity_financings.as_mut().unwrap()[1].post_money_valuation = None;
    let r = b.evaluate(Venue::Neeq, RuleScope::InnovationLayer, &input).unwrap();
    let c = find_criterion(
        &standard(&r, "neeq_innovation_3").criteria,
        "placement_market_value.lowest_post_money_valuation_24m",
    );
    assert_eq!(c.verdict, Verdict::Unknown);
    assert!(c.missing[0].starts_with("post_money_valuation"), "{c:?}");
}

#[test]
fn net_assets_per_share_reads_share_capital_at_the_latest_year_end() {
    let b = book();
    let mut input = strong(NEW);
    input.share_capital_at_year_end = None;
    let r = b.evaluate(Venue::Neeq, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "neeq_general").criteria, "net_assets_per_share");
    assert_eq!((c.verdict, c.missing.clone()), (Verdict::Unknown, vec!["share_capital 2024-12-31".to_owned()]));
}

/// A firm's records, each read as of the evaluation date, take a NEEQ candidate to `met` on the
/// listing and the innovation-layer entry standards; on an earlier date the later records do
/// not count.
#[test]
fn records_as_of_the_date_take_a_neeq_candidate_to_met() {
    use crate::domain::firm_inputs::{FirmRecords, InputSource, MarketValueEstimate, ShareCapitalEntry};
    let mut firm = crate::domain::firm_inputs::test_firm(Some(Tier::ProvincialSrdi), "2015-03-01", true);
    firm.expected_market_value = Some(d("9999999999"));
    let year = |fy: i32, profit: &str| FinancialYear {
        fiscal_year: fy,
        revenue: Some(d("90000000")),
        net_profit: Some(d(profit)),
        net_profit_deducted: Some(d(profit)),
        net_assets: Some(d("60000000")),
        weighted_roe: Some(d("18")),
        weighted_roe_deducted: Some(d("17")),
        audited_on: Some(date(&format!("{}-04-20", fy + 1))),
        ..FinancialYear::default()
    };
    let financials = vec![year(2023, "11000000"), year(2024, "12000000")];
    let capital = |on: &str, amount: &str| ShareCapitalEntry {
        effective_on: date(on),
        amount: d(amount),
        document_ref: None,
        source: InputSource::Office,
    };
    let records = FirmRecords {
        share_capital: vec![capital("2020-06-01", "10000000"), capital("2024-11-01", "30000000")],
        market_value_estimates: vec![MarketValueEstimate {
            estimated_on: date("2025-06-01"),
            amount: d("500000000"),
            basis: Some("主办券商估值".to_owned()),
            document_ref: None,
            source: InputSource::Firm,
        }],
        ..FirmRecords::default()
    };
    let b = book();
    let input = ReadinessInput::from_records(&firm, financials.clone(), &records, date("2025-06-30"));
    assert_eq!(input.expected_market_value, Some(d("500000000")), "the dated estimate, not the firm field");
    assert_eq!(input.share_capital_at_year_end, Some(d("30000000")));
    for scope in [RuleScope::Listing, RuleScope::InnovationLayer] {
        let r = b.evaluate(Venue::Neeq, scope, &input).unwrap();
        assert!(r.eligible, "{scope}: {r:#?}");
        assert_eq!(r.latest_fiscal_year_basis, LatestYearBasis::Audited);
    }
    let r = b.evaluate(Venue::Neeq, RuleScope::InnovationLayer, &input).unwrap();
    assert_eq!(r.eligible_standards, vec!["neeq_innovation_1"]);
    // On 2025-05-31 the estimate did not exist yet: NEEQ 5's market value is unknown, not met.
    let earlier = ReadinessInput::from_records(&firm, financials, &records, date("2025-05-31"));
    assert_eq!(earlier.expected_market_value, None);
    let r = b.evaluate(Venue::Neeq, RuleScope::Listing, &earlier).unwrap();
    let c = find_criterion(&standard(&r, "neeq_5").criteria, "market_value_at_placement");
    assert_eq!(c.verdict, Verdict::Unknown);
}

#[test]
fn regional_board_reads_the_financing_record() {
    use crate::domain::firm_inputs::InvestorKind;
    use crate::domain::investment::InvestmentRound;
    let b = book();
    let mut input = strong(NEW);
    input.tier = None;
    input.in_reserve_pool = false;
    let layer = |input: &ReadinessInput, code: &str| {
        let r = b.evaluate(Venue::RegionalSrdiBoard, RuleScope::Listing, input).unwrap();
        standard(&r, code).verdict
    };
    // (investor kind, round, record complete, incubation verdict, standardization verdict)
    let cases = [
        (Some(InvestorKind::VcPe), Some(InvestmentRound::SeriesB), true, Verdict::Met, Verdict::Met),
        (Some(InvestorKind::GovernmentFund), Some(InvestmentRound::SeriesA), true, Verdict::Met, Verdict::Unknown),
        (Some(InvestorKind::Individual), Some(InvestmentRound::Angel), false, Verdict::Unknown, Verdict::Unknown),
    ];
    for (kind, round, complete, incubation, standardization) in cases {
        input.equity_financings = Some(vec![EquityFinancing {
            paid_in_on: date("2024-01-01"),
            amount: d("30000000"),
            investor_kind: kind,
            round,
            ..EquityFinancing::default()
        }]);
        input.equity_financings_partial = !complete;
        assert_eq!(layer(&input, "regional_incubation"), incubation, "{kind:?} {round:?}");
        assert_eq!(layer(&input, "regional_standardization"), standardization, "{kind:?} {round:?}");
    }
}

#[test]
fn attestation_keys_name_who_may_state_them() {
    let keys = book().attestation_keys();
    assert!(keys["srdi_potential"].office_only);
    assert!(!keys["star5_major_business_approved"].office_only);
    assert!(keys["star5_major_business_approved"].read_by.iter().any(|r| r.ends_with(": star_5")), "{keys:#?}");
}
