//! 国家级专精特新"小巨人": condition groups, R&D intensity by size, unasserted qualitative
//! conditions, and the 2025 round's rules from their date.

use super::*;

#[test]
fn little_giant_groups() {
    let b = book();
    // Requires the provincial title.
    let mut input = strong();
    input.tier = Some(Tier::InnovativeSme);
    let c = b.check(&input).unwrap();
    assert_eq!(tier(&c, Tier::LittleGiant).verdict, Verdict::NotMet);
    assert_eq!(c.highest_met, Some(Tier::ProvincialSrdi));

    type Setter = fn(&mut ReadinessInput, Decimal);
    let niche: Setter = |i, x| i.sme.niche_market_years = Some(x);
    let share: Setter = |i, x| i.sme.national_niche_market_share = Some(x);
    let debt: Setter = |i, x| set_latest(i, |y| y.total_liabilities = Some(y.total_assets.unwrap() * x / d("100")));
    let mb_share: Setter = |i, x| set_latest(i, |y| y.main_business_revenue = Some(y.revenue.unwrap() * x / d("100")));
    let cases: &[(&str, Setter, &str, Verdict)] = &[
        ("lg_specialisation", niche, "3", Verdict::Met),
        ("lg_specialisation", niche, "2.99", Verdict::NotMet),
        ("lg_refinement", debt, "70", Verdict::Met),
        ("lg_refinement", debt, "70.01", Verdict::NotMet),
        ("lg_distinctiveness", share, "10", Verdict::Met),
        ("lg_distinctiveness", share, "9.99", Verdict::NotMet),
    ];
    for (code, set, x, expected) in cases {
        let mut input = strong();
        set(&mut input, d(x));
        let c = b.check(&input).unwrap();
        let r = condition(tier(&c, Tier::LittleGiant), code);
        assert_eq!(r.verdict, *expected, "{code} at {x}: {r:#?}");
    }
    // Main-business share 70% exactly passes; growth average must stay ≥ 5%, so keep revenue.
    let mut input = strong();
    mb_share(&mut input, d("70"));
    let c = b.check(&input).unwrap();
    let spec = condition(tier(&c, Tier::LittleGiant), "lg_specialisation");
    let share = spec.criteria.iter().find(|c| c.name == "main_business_share").unwrap();
    assert_eq!(share.verdict, Verdict::Met);
}

#[test]
fn little_giant_rd_intensity_by_size() {
    let b = book();
    let innovation = |input: &ReadinessInput| {
        let c = b.check(input).unwrap();
        condition(tier(&c, Tier::LittleGiant), "lg_innovation").clone()
    };
    let set_rd = |input: &mut ReadinessInput, revenue: &str, ratio: &str| {
        for y in input.financials.iter_mut().filter(|y| y.fiscal_year >= 2023) {
            y.revenue = Some(d(revenue));
            y.main_business_revenue = Some(d(revenue));
            y.rd_expense = Some(d(revenue) * d(ratio) / d("100"));
        }
    };
    // ≥ 1亿 revenue: 3% each year.
    let mut input = strong();
    set_rd(&mut input, "100000000", "3");
    let r = innovation(&input);
    assert_eq!((r.verdict, r.variant.as_deref()), (Verdict::Met, Some("large")));
    set_rd(&mut input, "100000000", "2.99");
    assert_eq!(innovation(&input).verdict, Verdict::NotMet);
    // 5,000万–1亿: 6% each year.
    set_rd(&mut input, "99999999", "6");
    let r = innovation(&input);
    assert_eq!((r.verdict, r.variant.as_deref()), (Verdict::Met, Some("medium")));
    set_rd(&mut input, "50000000", "5.99");
    assert_eq!(innovation(&input).verdict, Verdict::NotMet);
    // Below 5,000万: financing ≥ 8,000万, R&D ≥ 3,000万 over 2 years, R&D staff ≥ 50%.
    set_rd(&mut input, "49999999", "10");
    for y in input.financials.iter_mut().filter(|y| y.fiscal_year >= 2023) {
        y.rd_expense = Some(d("15000000"));
    }
    input.rd_staff_share = Some(d("50"));
    input.equity_financings = Some(vec![EquityFinancing {
        paid_in_on: date("2024-01-01"),
        amount: d("80000000"),
        by_qualified_institution: true,
        ..EquityFinancing::default()
    }]);
    let r = innovation(&input);
    assert_eq!((r.verdict, r.variant.as_deref()), (Verdict::Met, Some("small")), "{r:#?}");
    input.rd_staff_share = Some(d("49.99"));
    assert_eq!(innovation(&input).verdict, Verdict::NotMet);
    // The direct route: a national S&T award.
    input.attestations.insert("lg_national_st_award_top3_3y".to_owned(), true.into());
    let r = innovation(&input);
    assert_eq!((r.verdict, r.variant.as_deref()), (Verdict::Met, Some("direct_award")));
}

#[test]
fn unasserted_qualitative_conditions_are_unknown() {
    let mut input = strong();
    input.attestations.clear();
    let c = book().check(&input).unwrap();
    let lg = tier(&c, Tier::LittleGiant);
    assert_eq!(lg.verdict, Verdict::Unknown);
    assert!(lg.missing.contains(&"attestation lg_own_brand".to_owned()), "{:?}", lg.missing);
}

/// The 2025 round (工信厅企业函〔2025〕190号) applies from 2025-05-14 only.
#[test]
fn the_2025_round_rules_apply_from_their_date() {
    let b = book();
    let lg = |input: &ReadinessInput| tier(&b.check(input).unwrap(), Tier::LittleGiant).clone();
    let codes = |t: &TierResult| t.conditions.iter().map(|c| c.code.clone()).collect::<Vec<_>>();
    // (date, revenue, verdict of the revenue floor: None when the condition is not in force)
    let cases: &[(&str, &str, Option<Verdict>)] = &[
        ("2025-05-13", "49999999.99", None),
        ("2025-05-14", "49999999.99", Some(Verdict::NotMet)),
        ("2025-05-14", "50000000", Some(Verdict::Met)),
        ("2025-12-31", "50000000.01", Some(Verdict::Met)),
    ];
    for (on, revenue, expected) in cases {
        let mut input = strong();
        input.evaluation_date = date(on);
        set_latest(&mut input, |y| {
            let share = y.main_business_revenue.unwrap() / y.revenue.unwrap();
            y.revenue = Some(d(revenue));
            y.main_business_revenue = Some(d(revenue) * share);
            y.rd_expense = Some(d(revenue) * d("0.08"));
        });
        let t = lg(&input);
        let floor = t.conditions.iter().find(|c| c.code == "lg_2025_round_revenue").map(|c| c.verdict);
        assert_eq!(floor, *expected, "{on} {revenue}: {:?}", codes(&t));
        let before = *on < "2025-05-14";
        assert_eq!(codes(&t).iter().any(|c| *c == "lg_growth"), before, "{on}");
        assert_eq!(codes(&t).iter().any(|c| *c == "lg_growth_2025_round"), !before, "{on}");
    }
    // Renewals are spared the growth test in the 2025 round; new applicants are not.
    let mut input = strong();
    for y in &mut input.financials {
        y.main_business_revenue = Some(d("95000000"));
    }
    let growth = |t: &TierResult| t.conditions.iter().find(|c| c.code == "lg_growth_2025_round").unwrap().verdict;
    assert_eq!(growth(&lg(&input)), Verdict::NotMet);
    input.tier = Some(Tier::LittleGiant);
    assert_eq!(growth(&lg(&input)), Verdict::Met);
    // Single champions and members of a group with a 小巨人 are outside the round.
    input.attestations.insert("lg_not_single_champion_or_group_member".to_owned(), false.into());
    let t = lg(&input);
    assert_eq!(t.verdict, Verdict::NotMet);
    let exclusion = t.conditions.iter().find(|c| c.code == "lg_2025_round_exclusions").unwrap();
    assert_eq!(exclusion.verdict, Verdict::NotMet);
}
