use super::*;
use crate::domain::firm::FinancialYear;
use crate::domain::readiness::{EquityFinancing, IpClass, ProductChainRole, RdInstitutionLevel, SmeExtras};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn book() -> TierBook {
    TierBook::builtin().expect("builtin tier schemes are valid")
}

/// A firm that scores full marks everywhere it can and meets every tier.
fn strong() -> ReadinessInput {
    let year = |y: i32, rev: &str, mbr: &str, rd: &str| FinancialYear {
        fiscal_year: y,
        revenue: Some(d(rev)),
        main_business_revenue: Some(d(mbr)),
        net_profit: Some(d("20000000")),
        net_profit_deducted: Some(d("19000000")),
        rd_expense: Some(d(rd)),
        total_assets: Some(d("200000000")),
        total_liabilities: Some(d("60000000")),
        net_assets: Some(d("140000000")),
        employees: Some(200),
        rd_staff: Some(50),
        invention_patents: Some(12),
        ..FinancialYear::default()
    };
    let mut attestations = BTreeMap::new();
    for k in [
        "lg_strategy_governance_credit",
        "lg_core_business_information_system",
        "lg_management_or_product_certification",
        "lg_own_brand",
        "lg_key_chain_link",
        "lg_priority_product_field",
        "lg_not_single_champion_or_group_member",
    ] {
        attestations.insert(k.to_owned(), true.into());
    }
    // Direct routes denied, so that the general routes decide.
    for k in ["lg_national_st_award_top3_3y", "lg_maker_china_top50_3y"] {
        attestations.insert(k.to_owned(), false.into());
    }
    ReadinessInput {
        evaluation_date: date("2025-06-30"),
        financials: vec![
            year(2022, "100000000", "95000000", "6000000"),
            year(2023, "120000000", "114000000", "7000000"),
            year(2024, "150000000", "142500000", "9000000"),
        ],
        tier: Some(Tier::ProvincialSrdi),
        equity_financings: Some(vec![]),
        attestations,
        sme: SmeExtras {
            ip_best_class: Some(IpClass::HighValueClassI),
            class_i_ip_in_use: Some(5),
            strategic_emerging_industry: Some(true),
            niche_market_years: Some(d("12")),
            product_chain_role: Some(ProductChainRole::FillsChainGap),
            digitalisation_level: Some(3),
            quality_items: Some(3),
            rd_institution_level: Some(RdInstitutionLevel::National),
            national_niche_market_share: Some(d("15")),
            provincial_key_industry: Some(crate::domain::readiness::ProvincialKeyIndustry::ProvincialPlanAndChain),
            innovative_operation_items: Some(2),
            niche_share_rank: Some(crate::domain::readiness::NicheShareRank::NationalTop3),
            listing_progress: Some(crate::domain::readiness::ListingProgress::ListedOrNeeq),
        },
        ..ReadinessInput::default()
    }
}

/// Denies every 创新型 direct-entry route, so that the score decides.
fn no_direct(input: &mut ReadinessInput) {
    input.attestations.insert("innovative_st_award_3y".to_owned(), false.into());
    input.attestations.insert("innovative_valid_honour".to_owned(), false.into());
    input.sme.rd_institution_level = Some(RdInstitutionLevel::Municipal);
    input.equity_financings = Some(vec![]);
}

fn tier(check: &TierCheck, t: Tier) -> &TierResult {
    check.tiers.iter().find(|r| r.tier == t).unwrap()
}

fn condition<'a>(r: &'a TierResult, code: &str) -> &'a StandardResult {
    r.conditions.iter().find(|s| s.code == code).unwrap()
}

fn indicator<'a>(c: &'a TierCheck, card: &str, name: &str) -> &'a IndicatorResult {
    c.scorecards
        .iter()
        .find(|s| s.name == card)
        .unwrap()
        .categories
        .iter()
        .flat_map(|g| &g.indicators)
        .find(|i| i.name == name)
        .unwrap()
}

fn set_latest(input: &mut ReadinessInput, f: impl Fn(&mut FinancialYear)) {
    let latest = input.latest_fiscal_year();
    f(input.financials.iter_mut().find(|y| y.fiscal_year == latest).unwrap());
}

#[test]
fn builtin_scheme_is_valid_and_round_trips() {
    let schemes = builtin_tier_schemes().unwrap();
    for s in schemes {
        let json = serde_json::to_string(&s).unwrap();
        let back: TierScheme = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}

#[test]
fn scheme_is_picked_by_date() {
    let b = book();
    assert_eq!(b.scheme_in_force(date("2024-01-01")).unwrap().version, "miit-2022-08-01");
    assert!(b.scheme_in_force(date("2022-07-31")).is_none());
    // The 2026 办法 replaces the 2022 scheme; until its data is added nothing is in force.
    assert!(b.scheme_in_force(date("2026-04-01")).is_none());
    let mut input = strong();
    input.evaluation_date = date("2026-04-01");
    assert_eq!(b.check(&input).unwrap_err(), NoTierSchemeInForce { date: date("2026-04-01") });
}

#[test]
fn strong_firm_meets_every_tier_with_full_scores() {
    let c = book().check(&strong()).unwrap();
    for t in &c.tiers {
        assert_eq!(t.verdict, Verdict::Met, "{:?}: {:#?}", t.tier, t.conditions);
    }
    assert_eq!(c.highest_met, Some(Tier::LittleGiant));
    let innovative = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
    assert_eq!(innovative.points_min, d("100"));
    assert_eq!(innovative.points_max, d("100"));
    let srdi = c.scorecards.iter().find(|s| s.name == "provincial_srdi").unwrap();
    assert_eq!(srdi.points_min, srdi.points_max);
    assert_eq!(srdi.points_min, d("100"));
}

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

#[test]
fn provincial_srdi_conditions_at_boundaries() {
    let b = book();
    type Setter = fn(&mut ReadinessInput, Decimal);
    let niche: Setter = |i, x| i.sme.niche_market_years = Some(x);
    let rd_amount: Setter = |i, x| set_latest(i, |y| y.rd_expense = Some(x));
    let revenue: Setter = |i, x| {
        set_latest(i, |y| {
            y.revenue = Some(x);
            y.main_business_revenue = Some(x);
            y.rd_expense = Some(x * d("0.05"));
        })
    };
    // (condition, setter, value, expected)
    let cases: &[(&str, Setter, &str, Verdict)] = &[
        ("srdi_niche", niche, "2", Verdict::Met),
        ("srdi_niche", niche, "1.99", Verdict::NotMet),
        ("srdi_rd", rd_amount, "1000000", Verdict::NotMet), // 1,000,000 / 150,000,000 < 3%
        ("srdi_rd", rd_amount, "4500000", Verdict::Met),    // exactly 3%
        ("srdi_rd", rd_amount, "4499999", Verdict::NotMet),
        ("srdi_scale", revenue, "10000000", Verdict::Met),
        ("srdi_scale", revenue, "9999999", Verdict::NotMet),
    ];
    for (code, set, x, expected) in cases {
        let mut input = strong();
        set(&mut input, d(x));
        let c = b.check(&input).unwrap();
        let r = condition(tier(&c, Tier::ProvincialSrdi), code);
        assert_eq!(r.verdict, *expected, "{code} at {x}: {r:#?}");
    }
    // R&D amount floor of 100万 with a small revenue: 100万 / 2,000万 = 5%.
    let mut input = strong();
    set_latest(&mut input, |y| {
        y.revenue = Some(d("20000000"));
        y.rd_expense = Some(d("1000000"));
    });
    let c = b.check(&input).unwrap();
    assert_eq!(condition(tier(&c, Tier::ProvincialSrdi), "srdi_rd").verdict, Verdict::Met);
    set_latest(&mut input, |y| y.rd_expense = Some(d("999999")));
    let c = b.check(&input).unwrap();
    assert_eq!(condition(tier(&c, Tier::ProvincialSrdi), "srdi_rd").verdict, Verdict::NotMet);
    // Below 1,000万 revenue, 2,000万 of institutional financing in 2 years replaces it.
    let mut input = strong();
    revenue(&mut input, d("9000000"));
    input.equity_financings = Some(vec![EquityFinancing {
        paid_in_on: date("2023-07-01"),
        amount: d("20000000"),
        by_qualified_institution: true,
        ..EquityFinancing::default()
    }]);
    let c = b.check(&input).unwrap();
    assert_eq!(condition(tier(&c, Tier::ProvincialSrdi), "srdi_scale").verdict, Verdict::Met);
    // Paid in 2023-06-30 is outside the 24 months before 2025-06-30.
    input.equity_financings.as_mut().unwrap()[0].paid_in_on = date("2023-06-30");
    let c = b.check(&input).unwrap();
    assert_eq!(condition(tier(&c, Tier::ProvincialSrdi), "srdi_scale").verdict, Verdict::NotMet);
}

#[test]
fn srdi_rd_input_takes_the_better_of_amount_and_ratio() {
    let b = book();
    let mut input = strong();
    // 300万 (6 points by amount) on 150,000,000 revenue = 2% (0 by ratio) → 6.
    set_latest(&mut input, |y| y.rd_expense = Some(d("3000000")));
    let c = b.check(&input).unwrap();
    assert_eq!(indicator(&c, "provincial_srdi", "rd_input").points, Some(d("6")));
    // 200万 on 20,000,000 = 10% → 10 by ratio beats 4 by amount.
    set_latest(&mut input, |y| {
        y.revenue = Some(d("20000000"));
        y.rd_expense = Some(d("2000000"));
    });
    let c = b.check(&input).unwrap();
    assert_eq!(indicator(&c, "provincial_srdi", "rd_input").points, Some(d("10")));
}

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

/// Every band edge of the 专精特新 indicators that read the recorded tier inputs, and every
/// value of the categorical ones.
#[test]
fn provincial_srdi_indicators_of_the_tier_inputs_at_boundaries() {
    type Setter = fn(&mut SmeExtras, Decimal);
    let niche: Setter = |e, x| e.niche_market_years = Some(x);
    let digital: Setter = |e, x| e.digitalisation_level = Some(x.to_string().parse().unwrap());
    let quality: Setter = |e, x| e.quality_items = Some(x.to_string().parse().unwrap());
    let operation: Setter = |e, x| e.innovative_operation_items = Some(x.to_string().parse().unwrap());
    // (indicator, setter, value, points)
    let cases: &[(&str, Setter, &str, &str)] = &[
        ("niche_years", niche, "10", "5"),
        ("niche_years", niche, "9.99", "4"),
        ("niche_years", niche, "8", "4"),
        ("niche_years", niche, "6", "3"),
        ("niche_years", niche, "4", "2"),
        ("niche_years", niche, "2", "1"),
        ("niche_years", niche, "1.99", "0"),
        ("digitalisation", digital, "4", "5"),
        ("digitalisation", digital, "3", "5"),
        ("digitalisation", digital, "2", "3"),
        ("digitalisation", digital, "1", "0"),
        ("quality", quality, "4", "5"),
        ("quality", quality, "2", "5"),
        ("quality", quality, "1", "3"),
        ("quality", quality, "0", "0"),
        ("innovative_operation", operation, "6", "4"),
        ("innovative_operation", operation, "2", "4"),
        ("innovative_operation", operation, "1", "2"),
        ("innovative_operation", operation, "0", "0"),
    ];
    let b = book();
    for (name, set, x, points) in cases {
        let mut input = strong();
        set(&mut input.sme, d(x));
        let c = b.check(&input).unwrap();
        assert_eq!(indicator(&c, "provincial_srdi", name).points, Some(d(points)), "{name} at {x}");
    }
    // Categorical inputs: each value's points, as the sheet gives them.
    type Choice = fn(&mut SmeExtras, &str);
    type ValuePoints = &'static [(&'static str, &'static str)];
    let choices: &[(&str, Choice, ValuePoints)] = &[
        (
            "ip",
            |e, v| e.ip_best_class = Some(v.parse().unwrap()),
            &[
                ("high_value_class_i", "10"),
                ("self_developed_class_i", "8"),
                ("class_i", "6"),
                ("class_ii", "2"),
                ("no_ip", "0"),
            ],
        ),
        (
            "rd_institution",
            |e, v| e.rd_institution_level = Some(v.parse().unwrap()),
            &[
                ("national", "10"),
                ("provincial", "8"),
                ("municipal", "4"),
                ("below_municipal", "2"),
                ("no_institution", "0"),
            ],
        ),
        (
            "product_field",
            |e, v| e.product_chain_role = Some(v.parse().unwrap()),
            &[("fills_chain_gap", "5"), ("basic_or_key_supplier", "3"), ("other", "0")],
        ),
        (
            "key_industry",
            |e, v| e.provincial_key_industry = Some(v.parse().unwrap()),
            &[
                ("provincial_plan_and_chain", "4"),
                ("provincial_plan", "3"),
                ("city_key", "2"),
                ("county_key", "1"),
                ("not_key", "0"),
            ],
        ),
        (
            "niche_share",
            |e, v| e.niche_share_rank = Some(v.parse().unwrap()),
            &[
                ("national_top3", "4"),
                ("national_top10_or_provincial_top3", "3"),
                ("provincial_top10", "2"),
                ("below", "0"),
            ],
        ),
    ];
    for (name, set, values) in choices {
        for (value, points) in *values {
            let mut input = strong();
            set(&mut input.sme, value);
            let c = b.check(&input).unwrap();
            assert_eq!(indicator(&c, "provincial_srdi", name).points, Some(d(points)), "{name} = {value}");
        }
    }
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

/// Shandong item 12 comes from the registry's listing record.
#[test]
fn listing_progress_is_derived_from_the_listing_record() {
    use crate::domain::firm::Venue;
    use crate::domain::listing_stage::{ListingStage, Progress};
    use crate::domain::readiness::{ListingProgress, listing_progress_of};
    let at = |venue: Venue, stage: ListingStage| Progress {
        venue,
        current: Some(stage),
        current_layer: None,
        since: None,
        history: Vec::new(),
        allowed_next: Vec::new(),
        issues: Vec::new(),
    };
    let on = date("2025-06-30");
    let cases: &[(Vec<Progress>, Option<&str>, ListingProgress)] = &[
        (vec![], None, ListingProgress::NoProgress),
        (vec![at(Venue::Bse, ListingStage::TutoringFiled)], None, ListingProgress::NoProgress),
        (vec![at(Venue::Bse, ListingStage::ApplicationAccepted)], None, ListingProgress::RegionalOrApplied),
        (vec![at(Venue::RegionalSrdiBoard, ListingStage::RegionalListed)], None, ListingProgress::RegionalOrApplied),
        (vec![at(Venue::Neeq, ListingStage::NeeqAccepted)], None, ListingProgress::RegionalOrApplied),
        (vec![at(Venue::Neeq, ListingStage::NeeqListed)], None, ListingProgress::ListedOrNeeq),
        (vec![at(Venue::Star, ListingStage::Listed)], None, ListingProgress::ListedOrNeeq),
        (vec![], Some("2020-01-01"), ListingProgress::ListedOrNeeq),
        (vec![], Some("2025-07-01"), ListingProgress::NoProgress),
    ];
    for (progress, neeq, expected) in cases {
        assert_eq!(listing_progress_of(progress, neeq.map(date), on), *expected, "{progress:?} {neeq:?}");
    }
}

/// The scoring inputs recorded for the latest fiscal year take a firm to 专精特新 and 小巨人.
#[test]
fn recorded_tier_inputs_of_the_latest_year_are_used() {
    use crate::domain::firm_inputs::{AttestationSource, AttestationStatement, FirmRecords, InputSource, TierInputs};
    use crate::domain::readiness::{ListingProgress, NicheShareRank, ProvincialKeyIndustry};
    let base = strong();
    let firm = crate::domain::firm_inputs::test_firm(Some(Tier::ProvincialSrdi), "2010-01-01", false);
    let inputs = |fy: i32| TierInputs {
        fiscal_year: fy,
        ip_best_class: Some(IpClass::HighValueClassI),
        class_i_ip_in_use: Some(5),
        strategic_emerging_industry: Some(true),
        niche_market_years: Some(d("12")),
        product_chain_role: Some(ProductChainRole::FillsChainGap),
        digitalisation_level: Some(3),
        quality_items: Some(3),
        rd_institution_level: Some(RdInstitutionLevel::National),
        national_niche_market_share: Some(d("15")),
        provincial_key_industry: Some(ProvincialKeyIndustry::ProvincialPlanAndChain),
        innovative_operation_items: Some(2),
        niche_share_rank: Some(NicheShareRank::NationalTop3),
        cloud_migrated: Some(true),
        key_chain_supplier: Some(true),
        source: Some(InputSource::Office),
    };
    let attestations = base
        .attestations
        .iter()
        .map(|(k, a)| AttestationStatement {
            id: uuid::Uuid::now_v7(),
            key: k.clone(),
            holds: a.holds,
            stated_on: date("2025-01-10"),
            valid_until: None,
            document_ref: None,
            remark: None,
            source: AttestationSource::Office,
            recorded_at: chrono::Utc::now(),
        })
        .collect();
    let mut records = FirmRecords {
        equity_financings: Some(Default::default()),
        attestations,
        tier_inputs: vec![inputs(2023)],
        ..FirmRecords::default()
    };
    let check = |records: &FirmRecords| {
        let mut input = ReadinessInput::from_records(&firm, base.financials.clone(), records, base.evaluation_date);
        input.sme.listing_progress = Some(ListingProgress::NoProgress);
        book().check(&input).unwrap()
    };
    // Only 2023 is on record: the 2024 scoring inputs are unknown.
    let c = check(&records);
    assert_eq!(tier(&c, Tier::ProvincialSrdi).verdict, Verdict::Unknown);
    records.tier_inputs.push(inputs(2024));
    let c = check(&records);
    assert_eq!(tier(&c, Tier::ProvincialSrdi).verdict, Verdict::Met, "{:#?}", tier(&c, Tier::ProvincialSrdi));
    assert_eq!(tier(&c, Tier::LittleGiant).verdict, Verdict::Met, "{:#?}", tier(&c, Tier::LittleGiant));
    assert_eq!(c.highest_met, Some(Tier::LittleGiant));
}

#[test]
fn openapi_schemas_generate() {
    use utoipa::OpenApi;
    #[derive(OpenApi)]
    #[openapi(components(schemas(TierCheck, TierScheme)))]
    struct Doc;
    let json = Doc::openapi().to_json().unwrap();
    assert!(json.contains("\"IndicatorResult\"") && json.contains("\"Scorecard\""));
}

#[test]
fn validate_names_the_field() {
    let mut s = builtin_tier_schemes().unwrap().remove(0);
    s.scorecards[0].categories[1].max_points = d("31");
    let e = s.validate().unwrap_err();
    assert_eq!(e.path, "scorecards[0].categories[1].max_points");

    let mut s = builtin_tier_schemes().unwrap().remove(0);
    s.scorecards[0].categories[0].indicators[1].measures[0].bands[0].points = d("21");
    let e = s.validate().unwrap_err();
    assert_eq!(e.path, "scorecards[0].categories[0].indicators[1].measures[0].bands[0].points");

    let mut s = builtin_tier_schemes().unwrap().remove(0);
    s.scorecards[0].categories[0].indicators[1].measures[0].aggregate = None;
    let e = s.validate().unwrap_err();
    assert_eq!(e.path, "scorecards[0].categories[0].indicators[1].measures[0].aggregate");

    let json = include_str!("../../../rules/listing/sme-tier-miit-2022-08-01.json").replacen(
        "\"score\": \"innovative_sme\"",
        "\"score\": \"no_such_card\"",
        1,
    );
    let e = parse_tier_scheme(&json).unwrap_err();
    assert!(e.path.ends_with(".score"), "{e}");

    let s = builtin_tier_schemes().unwrap().remove(0);
    let mut later = s.clone();
    later.version = "overlapping".to_owned();
    let e = TierBook::new(vec![s, later]).unwrap_err();
    assert_eq!(e.path, "[1].effective_from");
}
