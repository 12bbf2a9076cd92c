//! Table-driven tests of the listing rule data and the evaluator: the fixtures every test shares,
//! the table of every threshold at, just below and just above its boundary, and the parsing of the
//! rule files. Tests of one concern each are in `tests/`.

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
fn parse_reports_typos_and_unknown_vocabulary() {
    let json = include_str!("../../../rules/listing/bse-2021-11-15.json");
    let typo = json.replacen("\"threshold\": \"200000000\"", "\"threshhold\": \"200000000\"", 1);
    let e = parse_rule_set(&typo).unwrap_err();
    assert!(e.message.contains("threshhold"), "{e}");
    let bad_metric = json.replacen("\"metric\": \"net_assets\"", "\"metric\": \"net_asets\"", 1);
    let e = parse_rule_set(&bad_metric).unwrap_err();
    assert!(e.message.contains("net_asets"), "{e}");
}

mod evaluator;
mod records;
mod rule_sets;
mod venues;
mod wire;
