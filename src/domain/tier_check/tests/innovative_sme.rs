//! 创新型中小企业: the score sheet's bands and sub-floors, and scores left as a range by missing or
//! unknown inputs.

use super::*;

/// (indicator, setter value, expected points): each band edge of the 创新型 sheet.
#[test]
fn innovative_sme_bands_at_boundaries() {
    type Setter = fn(&mut ReadinessInput, Decimal);
    let rd_ratio: Setter = |i, x| set_latest(i, |y| y.rd_expense = Some(y.revenue.unwrap() * x / d("100")));
    let debt: Setter = |i, x| set_latest(i, |y| y.total_liabilities = Some(y.total_assets.unwrap() * x / d("100")));
    let mb_share: Setter = |i, x| set_latest(i, |y| y.main_business_revenue = Some(y.revenue.unwrap() * x / d("100")));
    let mb_growth: Setter = |i, x| {
        let prev = d("114000000");
        set_latest(i, |y| y.main_business_revenue = Some(prev * (d("100") + x) / d("100")))
    };
    let cases: &[(&str, Setter, &str, &str)] = &[
        ("rd_ratio", rd_ratio, "5", "20"),
        ("rd_ratio", rd_ratio, "4.99", "15"),
        ("rd_ratio", rd_ratio, "3", "15"),
        ("rd_ratio", rd_ratio, "2.99", "10"),
        ("rd_ratio", rd_ratio, "2", "10"),
        ("rd_ratio", rd_ratio, "1", "5"),
        ("rd_ratio", rd_ratio, "0.99", "0"),
        ("debt_ratio", debt, "54.99", "10"),
        ("debt_ratio", debt, "55", "5"),
        ("debt_ratio", debt, "75", "5"),
        ("debt_ratio", debt, "75.01", "0"),
        ("main_business_share", mb_share, "70", "20"),
        ("main_business_share", mb_share, "69.99", "15"),
        ("main_business_share", mb_share, "60", "15"),
        ("main_business_share", mb_share, "55", "10"),
        ("main_business_share", mb_share, "50", "5"),
        ("main_business_share", mb_share, "49.99", "0"),
        ("main_business_growth", mb_growth, "15", "20"),
        ("main_business_growth", mb_growth, "14.99", "15"),
        ("main_business_growth", mb_growth, "10", "15"),
        ("main_business_growth", mb_growth, "5", "10"),
        ("main_business_growth", mb_growth, "0", "5"),
        ("main_business_growth", mb_growth, "-0.01", "0"),
    ];
    let b = book();
    for (name, set, x, points) in cases {
        let mut input = strong();
        set(&mut input, d(x));
        let c = b.check(&input).unwrap();
        let i = indicator(&c, "innovative_sme", name);
        assert_eq!(i.points, Some(d(points)), "{name} at {x}: {i:#?}");
    }
}

#[test]
fn innovative_sme_score_and_sub_floors() {
    let b = book();
    // Total 60 exactly with every floor met: innovation 20 (IP 0 + R&D 20), growth 15
    // (growth 5 + debt 10), specialisation 25 (field 5 + share 20)  → 60.
    let mut input = strong();
    no_direct(&mut input);
    input.sme.ip_best_class = Some(IpClass::NoIp);
    input.sme.strategic_emerging_industry = Some(false);
    set_latest(&mut input, |y| y.main_business_revenue = Some(d("114000000"))); // growth 0 → 5
    let c = b.check(&input).unwrap();
    let card = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
    assert_eq!(card.points_min, d("60"));
    let route = condition(tier(&c, Tier::InnovativeSme), "innovative_sme_route");
    assert_eq!(route.verdict, Verdict::Met);
    assert_eq!(route.variant.as_deref(), Some("score"));

    // Debt ratio 55% scores 5, not 10: total 55 and the growth floor (10 < 15) fail.
    set_latest(&mut input, |y| y.total_liabilities = Some(d("110000000")));
    let c = b.check(&input).unwrap();
    let card = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
    assert_eq!(card.points_min, d("55"));
    assert_eq!(tier(&c, Tier::InnovativeSme).verdict, Verdict::NotMet);

    // A floor decides even with a high total: innovation below 20.
    let mut input = strong();
    no_direct(&mut input);
    input.sme.ip_best_class = Some(IpClass::NoIp);
    set_latest(&mut input, |y| y.rd_expense = Some(y.revenue.unwrap() * d("0.0299")));
    let c = b.check(&input).unwrap();
    let route = condition(tier(&c, Tier::InnovativeSme), "innovative_sme_route");
    let score = route.criteria.iter().chain(route.other_variants.iter().flat_map(|v| &v.criteria));
    let floor = score.clone().find(|c| c.name == "innovation_floor").unwrap();
    assert_eq!(floor.verdict, Verdict::NotMet);
    assert_eq!(floor.actual, Some(d("10")));
    assert_eq!(route.verdict, Verdict::NotMet);
}

#[test]
fn missing_scoring_input_gives_a_range_and_unknown() {
    let b = book();
    let mut input = strong();
    no_direct(&mut input);
    input.sme.ip_best_class = None;
    input.sme.strategic_emerging_industry = Some(false);
    set_latest(&mut input, |y| y.rd_expense = Some(y.revenue.unwrap() * d("0.02")));
    // Known: rd 10 + growth 20 + debt 10 + field 5 + share 20 = 65 → met whatever the IP.
    let c = b.check(&input).unwrap();
    let card = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
    assert_eq!((card.points_min, card.points_max), (d("65"), d("85")));
    // But the innovation floor (≥ 20) depends on the IP: 10 known + up to 20.
    let t = tier(&c, Tier::InnovativeSme);
    assert_eq!(t.verdict, Verdict::Unknown);
    assert!(t.missing.contains(&"sme.ip_best_class".to_owned()), "{:?}", t.missing);
    // A direct-entry condition settles it regardless.
    input.equity_financings = Some(vec![EquityFinancing {
        paid_in_on: date("2024-01-01"),
        amount: d("5000000"),
        by_qualified_institution: true,
        ..EquityFinancing::default()
    }]);
    let c = b.check(&input).unwrap();
    assert_eq!(tier(&c, Tier::InnovativeSme).verdict, Verdict::Met);
}

/// An unknown yes/no indicator can only score one of its two values.
#[test]
fn an_unknown_yes_no_indicator_gives_its_possible_scores() {
    let b = book();
    let mut input = strong();
    no_direct(&mut input);
    input.sme.strategic_emerging_industry = None;
    input.sme.ip_best_class = Some(IpClass::NoIp);
    // Known: IP 0 + R&D 20 + growth 20 + debt 10 + share 20 = 70; the field gives 5 or 10.
    let c = b.check(&input).unwrap();
    let field = indicator(&c, "innovative_sme", "field");
    assert_eq!((field.points, field.possible_points.clone()), (None, vec![d("5"), d("10")]));
    let card = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
    assert_eq!((card.points_min, card.points_max), (d("75"), d("80")));
    // The total clears 60 whatever the answer, and the specialisation floor (≥ 15) too: met.
    assert_eq!(tier(&c, Tier::InnovativeSme).verdict, Verdict::Met);
    // Where the answer matters the verdict waits for it: share 50% scores 5, so
    // specialisation is 5 + {5, 10} = {10, 15} against the floor of 15.
    set_latest(&mut input, |y| {
        let revenue = y.main_business_revenue.unwrap() * d("2");
        y.revenue = Some(revenue);
        y.rd_expense = Some(revenue * d("0.05"));
    });
    let c = b.check(&input).unwrap();
    let t = tier(&c, Tier::InnovativeSme);
    assert_eq!(t.verdict, Verdict::Unknown);
    assert!(t.missing.contains(&"sme.strategic_emerging_industry".to_owned()), "{:?}", t.missing);
    // A banded indicator with its input missing can score any band or nothing.
    let mut input = strong();
    input.sme.digitalisation_level = None;
    let c = b.check(&input).unwrap();
    let digital = indicator(&c, "provincial_srdi", "digitalisation");
    assert_eq!(digital.possible_points, vec![d("0"), d("3"), d("5")]);
}
