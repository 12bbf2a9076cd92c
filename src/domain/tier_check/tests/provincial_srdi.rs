//! 省级专精特新: conditions and indicators at their boundaries, and the indicators read from the
//! registry's records (recorded tier inputs, the listing record).

use super::*;

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
