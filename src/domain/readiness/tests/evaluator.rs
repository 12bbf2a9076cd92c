//! How the evaluator reads a firm: the lower of figures before and after non-recurring items,
//! unknown data, which rule set and fiscal year apply on a date, growth rates, and which standard
//! is closest.

use super::*;

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
