//! Venue-specific rules: ChiNext's rule change and industry negative list, BSE entry conditions,
//! months on NEEQ, and the regional board's layers.

use super::*;

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
