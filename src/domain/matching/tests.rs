use super::*;

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("date literal")
}

const ON: &str = "2025-06-30";

fn bank() -> BankId {
    BankId::from_uuid(Uuid::from_u128(0xb1))
}

/// A firm that meets every rule of `strict()` with some headroom.
fn firm() -> MatchFirm {
    MatchFirm {
        id: FirmId::from_uuid(Uuid::from_u128(0xf1)),
        city: City::Jinan,
        industry_code: "C3562".into(),
        tier: Some(Tier::ProvincialSrdi),
        founded_on: Some(date("2020-03-15")),
        tax_credit_grade: Some(TaxCreditGrade::A),
        lead_bank_id: Some(bank()),
        in_reserve_pool: true,
        target_venues: vec![Venue::Bse],
        fiscal_year: Some(2024),
        revenue: Some(d("15000000.00")),
        rd_expense: Some(d("600000.00")),
        invention_patents: Some(3),
    }
}

fn product(e: Eligibility) -> MatchProduct {
    MatchProduct {
        id: Uuid::from_u128(0x91),
        bank_id: bank(),
        eligibility: e,
        valid_from: None,
        valid_to: None,
        active: true,
    }
}

fn strict() -> Eligibility {
    Eligibility {
        tiers: vec![Tier::ProvincialSrdi],
        min_years_in_operation: Some(3),
        min_revenue: Some(d("10000000.00")),
        min_rd_ratio: Some(d("0.03")),
        min_invention_patents: Some(2),
        tax_credit_grades: vec![TaxCreditGrade::A, TaxCreditGrade::B],
        cities: vec![City::Jinan, City::Qingdao],
        industry_prefixes: vec!["C35".into(), "I65".into()],
        reserve_pool_only: true,
        lead_bank_only: true,
        target_venues: vec![Venue::Bse, Venue::Star],
    }
}

fn run(f: &MatchFirm, p: &MatchProduct) -> MatchOutcome {
    let facts = FirmFacts::new(f, date(ON));
    let compiled = CompiledProduct::new(p);
    let out = explain(&facts, &compiled);
    // Both paths must agree, always.
    assert_eq!(out.verdict(), evaluate(&facts, &compiled), "fast path and explanation disagree");
    out
}

fn unmet_rules(o: &MatchOutcome) -> Vec<RuleKind> {
    o.unmet.iter().map(|r| r.rule).collect()
}

#[test]
fn a_firm_meeting_everything_is_eligible() {
    let o = run(&firm(), &product(strict()));
    assert!(o.eligible, "{o:#?}");
    assert!(o.unmet.is_empty());
    assert_eq!(o.met.len(), 11);
    assert!(o.score >= 60);
    let rev = o.met.iter().find(|r| r.rule == RuleKind::MinRevenue).expect("revenue rule");
    assert_eq!(rev.actual.as_deref(), Some("15000000.00"));
    assert_eq!(rev.required, "10000000.00");
    assert!(rev.comfortable);
    let rd = o.met.iter().find(|r| r.rule == RuleKind::MinRdRatio).expect("rd rule");
    assert_eq!((rd.actual.as_deref(), rd.required.as_str(), rd.comfortable), (Some("0.04"), "0.03", false));
    let tiers = o.met.iter().find(|r| r.rule == RuleKind::Tiers).expect("tier rule");
    assert_eq!(tiers.required, "provincial_srdi,little_giant");
}

/// Each numeric rule just below, at and just above its threshold.
#[test]
fn numeric_boundaries() {
    type Edit = fn(&mut MatchFirm, &str);
    let cases: &[(RuleKind, Edit, &str, &str, &str)] = &[
        (RuleKind::MinRevenue, |f, v| f.revenue = Some(d(v)), "9999999.99", "10000000.00", "10000000.01"),
        // 3 % of 15,000,000 = 450,000.00
        (RuleKind::MinRdRatio, |f, v| f.rd_expense = Some(d(v)), "449999.99", "450000.00", "450000.01"),
        (RuleKind::MinInventionPatents, |f, v| f.invention_patents = Some(v.parse().expect("int")), "1", "2", "3"),
        // three full years before 2025-06-30
        (RuleKind::MinYearsInOperation, |f, v| f.founded_on = Some(date(v)), "2022-07-01", "2022-06-30", "2022-06-29"),
    ];
    for (rule, edit, below, at, above) in cases {
        for (value, expect_met) in [(below, false), (at, true), (above, true)] {
            let mut f = firm();
            edit(&mut f, value);
            let o = run(&f, &product(strict()));
            assert_eq!(o.eligible, expect_met, "{rule} at {value}: {o:#?}");
            assert_eq!(unmet_rules(&o), if expect_met { vec![] } else { vec![*rule] }, "{rule} at {value}");
            if !expect_met {
                let r = &o.unmet[0];
                assert!(r.actual.is_some() && r.advice.is_some(), "{rule}: {r:?}");
                assert!(o.score < 60);
            }
        }
    }
}

#[test]
fn anniversaries_clamp_like_chrono() {
    let e = Eligibility { min_years_in_operation: Some(1), ..Eligibility::default() };
    let mut f = firm();
    f.founded_on = Some(date("2024-02-29"));
    for (on, eligible) in [("2025-02-27", false), ("2025-02-28", true), ("2025-03-01", true)] {
        let o = explain(&FirmFacts::new(&f, date(on)), &CompiledProduct::new(&product(e.clone())));
        assert_eq!(o.eligible, eligible, "{on}");
    }
    // Month ends clamp: a month after 01-31 is 02-28.
    assert_eq!(full_months(date("2025-01-31"), date("2025-02-27")), 0);
    assert_eq!(full_months(date("2025-01-31"), date("2025-02-28")), 1);
    assert_eq!(full_months(date("2025-01-31"), date("2025-03-31")), 2);
    assert_eq!(full_months(date("2026-01-01"), date("2025-01-01")), 0);
}

#[test]
fn list_rules_pass_and_fail() {
    type Edit = fn(&mut MatchFirm);
    let cases: &[(&str, Edit, Option<RuleKind>)] = &[
        ("little giant clears a provincial rule (ladder)", |f| f.tier = Some(Tier::LittleGiant), None),
        ("innovative SME is below the ladder", |f| f.tier = Some(Tier::InnovativeSme), Some(RuleKind::Tiers)),
        ("grade B is listed", |f| f.tax_credit_grade = Some(TaxCreditGrade::B), None),
        ("grade M is not listed", |f| f.tax_credit_grade = Some(TaxCreditGrade::M), Some(RuleKind::TaxCreditGrades)),
        ("Qingdao is listed", |f| f.city = City::Qingdao, None),
        ("Heze is not listed", |f| f.city = City::Heze, Some(RuleKind::Cities)),
        ("I6510 under I65", |f| f.industry_code = "I6510".into(), None),
        ("bare division gets its section", |f| f.industry_code = "3562".into(), None),
        ("lower case is fine", |f| f.industry_code = " c3562 ".into(), None),
        ("C36 is not C35", |f| f.industry_code = "C3611".into(), Some(RuleKind::IndustryPrefixes)),
        ("C3 is shorter than the prefix", |f| f.industry_code = "C3".into(), Some(RuleKind::IndustryPrefixes)),
        ("not in pool", |f| f.in_reserve_pool = false, Some(RuleKind::ReservePoolOnly)),
        (
            "another lead bank",
            |f| f.lead_bank_id = Some(BankId::from_uuid(Uuid::from_u128(0xb2))),
            Some(RuleKind::LeadBankOnly),
        ),
        ("no lead bank", |f| f.lead_bank_id = None, Some(RuleKind::LeadBankOnly)),
        ("targets STAR too", |f| f.target_venues = vec![Venue::Neeq, Venue::Star], None),
        ("targets only NEEQ", |f| f.target_venues = vec![Venue::Neeq], Some(RuleKind::TargetVenues)),
    ];
    for (what, edit, fails) in cases {
        let mut f = firm();
        edit(&mut f);
        let o = run(&f, &product(strict()));
        assert_eq!(unmet_rules(&o), fails.iter().copied().collect::<Vec<_>>(), "{what}");
        assert_eq!(o.eligible, fails.is_none(), "{what}");
        if fails.is_some() {
            assert!(o.unmet[0].advice.is_some(), "{what}");
        }
    }
}

#[test]
fn missing_data_is_unmet_with_a_null_actual() {
    type Edit = fn(&mut MatchFirm);
    let cases: &[(Edit, &[RuleKind])] = &[
        (|f| f.tier = None, &[RuleKind::Tiers]),
        (|f| f.founded_on = None, &[RuleKind::MinYearsInOperation]),
        (|f| f.revenue = None, &[RuleKind::MinRevenue, RuleKind::MinRdRatio]),
        (|f| f.revenue = Some(Decimal::ZERO), &[RuleKind::MinRevenue, RuleKind::MinRdRatio]),
        (|f| f.rd_expense = None, &[RuleKind::MinRdRatio]),
        (|f| f.invention_patents = None, &[RuleKind::MinInventionPatents]),
        (|f| f.tax_credit_grade = None, &[RuleKind::TaxCreditGrades]),
        (|f| f.industry_code = "  ".into(), &[RuleKind::IndustryPrefixes]),
        (|f| f.target_venues.clear(), &[RuleKind::TargetVenues]),
    ];
    for (edit, rules) in cases {
        let mut f = firm();
        edit(&mut f);
        let o = run(&f, &product(strict()));
        assert_eq!(unmet_rules(&o), rules.to_vec());
        assert!(!o.eligible);
        let v = o.verdict();
        // Zero revenue is known: the revenue rule fails with an actual, only the ratio is unknown.
        let unknown: Vec<RuleKind> = v.unknown.iter().collect();
        let expect_unknown: Vec<RuleKind> = o.unmet.iter().filter(|r| r.actual.is_none()).map(|r| r.rule).collect();
        assert_eq!(unknown, expect_unknown);
        assert!(o.unmet.iter().all(|r| r.advice.is_some()));
    }
    let mut f = firm();
    f.revenue = None;
    let o = run(&f, &product(strict()));
    assert!(o.unmet.iter().all(|r| r.actual.is_none()));
    let adv = o.unmet[0].advice.as_ref().expect("advice");
    assert!(adv.zh.contains("请补充") && adv.en.starts_with("Report revenue"), "{adv:?}");
}

#[test]
fn unconstrained_rules_ignore_missing_data() {
    let f = MatchFirm {
        tier: None,
        founded_on: None,
        tax_credit_grade: None,
        lead_bank_id: None,
        in_reserve_pool: false,
        target_venues: vec![],
        fiscal_year: None,
        revenue: None,
        rd_expense: None,
        invention_patents: None,
        industry_code: String::new(),
        ..firm()
    };
    let o = run(&f, &product(Eligibility::default()));
    assert!(o.eligible);
    assert_eq!(o.score, 100);
    assert!(o.met.is_empty() && o.unmet.is_empty());
}

#[test]
fn validity_window_and_withdrawal() {
    let mut p = product(strict());
    p.valid_from = Some(date("2025-01-01"));
    p.valid_to = Some(date(ON));
    assert!(run(&firm(), &p).eligible, "last day is inside");
    p.valid_to = Some(date("2025-06-29"));
    let o = run(&firm(), &p);
    assert!(!o.eligible);
    assert_eq!(o.score, 0);
    assert_eq!(unmet_rules(&o), [RuleKind::ProductValidity]);
    assert_eq!(o.unmet[0].required, "2025-01-01..2025-06-29");
    assert_eq!(o.unmet[0].actual.as_deref(), Some("ended"));
    assert!(!near_miss(&o), "an expired product is no near miss");
    p.valid_to = None;
    p.valid_from = Some(date("2025-07-01"));
    let o = run(&firm(), &p);
    assert_eq!(unmet_rules(&o), [RuleKind::ProductValidity]);
    assert_eq!(o.unmet[0].actual.as_deref(), Some("not_started"));
    p.valid_from = None;
    p.active = false;
    let o = run(&firm(), &p);
    assert_eq!(unmet_rules(&o), [RuleKind::ProductActive]);
    assert_eq!(o.unmet[0].actual.as_deref(), Some("false"));
    assert_eq!((o.eligible, o.score), (false, 0));
}

/// Between `on` and `recheck_on` nothing shown changes; on `recheck_on` something may.
#[test]
fn recheck_dates() {
    // (founded_on, valid_from, valid_to, expected recheck date)
    type Case = (&'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>);
    let cases: &[Case] = &[
        // founded 2020-03-15: 63 months on 2025-06-30, below 2 × 36, so monthly
        ("2020-03-15", None, None, Some("2025-07-15")),
        ("2020-03-15", None, Some("2025-07-10"), Some("2025-07-11")),
        ("2020-03-15", Some("2025-07-01"), None, Some("2025-07-01")),
        // 125 months, beyond 2 × 36: the next whole year (11 years on 2026-01-15)
        ("2015-01-15", None, None, Some("2026-01-15")),
        // not yet 3 years: monthly
        ("2023-01-10", None, None, Some("2025-07-10")),
    ];
    for (founded, from, to, want) in cases {
        let mut f = firm();
        f.founded_on = Some(date(founded));
        let mut p = product(strict());
        p.valid_from = from.map(date);
        p.valid_to = to.map(date);
        let compiled = CompiledProduct::new(&p);
        let start = FirmFacts::new(&f, date(ON));
        let next = recheck_on(&start, &compiled);
        assert_eq!(next, want.map(date), "{founded} {from:?} {to:?}");
        let before = explain(&start, &compiled);
        let mut day = date(ON);
        while let Some(d) = day.succ_opt().filter(|d| Some(*d) < next) {
            day = d;
            assert_eq!(explain(&FirmFacts::new(&f, day), &compiled), before, "changed on {day}");
        }
    }
    let mut f = firm();
    f.founded_on = None;
    assert_eq!(recheck_on(&FirmFacts::new(&f, date(ON)), &CompiledProduct::new(&product(strict()))), None);
    let never = product(Eligibility { min_revenue: Some(d("1")), ..Eligibility::default() });
    assert_eq!(recheck_on(&FirmFacts::new(&firm(), date(ON)), &CompiledProduct::new(&never)), None);
}

#[test]
fn near_misses() {
    let mut f = firm();
    f.in_reserve_pool = false;
    assert!(near_miss(&run(&f, &product(strict()))));
    f.city = City::Heze;
    assert!(near_miss(&run(&f, &product(strict()))));
    f.tier = None;
    assert!(!near_miss(&run(&f, &product(strict()))));
    assert!(!near_miss(&run(&firm(), &product(strict()))), "eligible is no miss");
}

#[test]
fn score_rises_with_headroom() {
    let e = Eligibility { min_revenue: Some(d("10000000")), min_invention_patents: Some(2), ..Eligibility::default() };
    let mut last = 0u8;
    let mut seen = vec![];
    for revenue in
        [0, 1_000_000, 5_000_000, 9_999_999, 10_000_000, 12_000_000, 15_000_000, 19_999_999, 20_000_000, 50_000_000]
    {
        let mut f = firm();
        f.revenue = Some(Decimal::from(revenue));
        let o = run(&f, &product(e.clone()));
        assert!(o.score >= last, "score fell at revenue {revenue}: {} < {last}", o.score);
        assert_eq!(o.eligible, revenue >= 10_000_000);
        assert!(if o.eligible { o.score >= 60 } else { o.score <= 58 }, "{revenue}: {}", o.score);
        last = o.score;
        seen.push(o.score);
    }
    // Patents: 3 against 2 is 50 % headroom (comfort 50). Revenue 15M is 50 % too:
    // 60 + 40 × (50 + 50) / 200 = 80. Below 10M: 59 × (progress + 100) / 200.
    assert_eq!(seen, [29, 32, 44, 58, 70, 74, 80, 89, 90, 90]);
}

#[test]
fn ineligible_scores_count_failures() {
    // 11 rules; failing more of them never scores higher.
    let mut f = firm();
    let mut last = 100u8;
    let edits: [fn(&mut MatchFirm); 4] = [
        |f| f.in_reserve_pool = false,
        |f| f.city = City::Heze,
        |f| f.tier = None,
        |f| f.tax_credit_grade = Some(TaxCreditGrade::D),
    ];
    for edit in edits {
        edit(&mut f);
        let s = run(&f, &product(strict())).score;
        assert!(s < last, "{s} !< {last}");
        last = s;
    }
}

#[test]
fn huge_figures_do_not_overflow() {
    let e = Eligibility {
        min_revenue: Some(d("900000000000000")),
        min_rd_ratio: Some(d("0.000001")),
        ..Eligibility::default()
    };
    let mut f = firm();
    f.revenue = Some(d("1000000000000000"));
    f.rd_expense = Some(d("79228162514264337593543950335"));
    let o = run(&f, &product(e.clone()));
    assert!(o.eligible);
    f.revenue = Some(d("-5"));
    let o = run(&f, &product(e));
    assert!(!o.eligible);
}

#[test]
fn advice_texts() {
    let mut f = firm();
    f.revenue = Some(d("8000000"));
    f.rd_expense = Some(d("200000"));
    f.founded_on = Some(date("2023-01-10"));
    f.invention_patents = Some(0);
    f.tax_credit_grade = Some(TaxCreditGrade::C);
    let o = run(&f, &product(strict()));
    let adv = |rule: RuleKind| o.unmet.iter().find(|r| r.rule == rule).and_then(|r| r.advice.clone()).expect("advice");
    assert_eq!(
        adv(RuleKind::MinRevenue).en,
        "Revenue must grow by 2000000.00 yuan (now 8000000.00, at least 10000000.00 required)"
    );
    assert_eq!(adv(RuleKind::MinYearsInOperation).zh, "成立满 3 年后可申请，即 2026-01-10 起");
    assert_eq!(
        adv(RuleKind::MinRdRatio).en,
        "R&D must reach 3% of revenue (now 2.5%): 40000.00 yuan more R&D expense at current revenue"
    );
    assert_eq!(adv(RuleKind::MinInventionPatents).zh, "还需 2 件已授权发明专利（当前 0 件，要求不少于 2 件）");
    assert_eq!(adv(RuleKind::TaxCreditGrades).en, "Tax credit grade must be one of A, B (now C)");
    let mut f = firm();
    f.tier = None;
    let o = run(&f, &product(strict()));
    assert_eq!(
        o.unmet[0].advice.as_ref().map(|a| a.zh.as_str()),
        Some("需获评省级专精特新中小企业、国家级专精特新\"小巨人\"企业")
    );
}

#[test]
fn outcome_comparison() {
    let p = product(strict());
    let a = run(&firm(), &p);
    let same = run(&firm(), &p);
    assert_eq!(a.fingerprint(), same.fingerprint());
    assert!(!a.change_from(&same).any());

    let mut f = firm();
    f.revenue = Some(d("15000001.00"));
    let b = run(&f, &p);
    let c = b.change_from(&a);
    assert_eq!((c.eligibility, c.score, c.reasons), (false, false, true), "same score, new actual value");
    assert_ne!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.verdict(), b.verdict(), "verdicts ignore displayed values");

    f.in_reserve_pool = false;
    let c = run(&f, &p).change_from(&a);
    assert!(c.eligibility && c.score && c.reasons);
}

#[test]
fn serialised_outcome_shape() {
    let mut f = firm();
    f.revenue = None;
    let o = run(&f, &product(Eligibility { min_revenue: Some(d("1")), ..Eligibility::default() }));
    let json = serde_json::to_value(&o).expect("serialises");
    assert_eq!(json["unmet"][0]["rule"], "min_revenue");
    assert_eq!(json["unmet"][0]["actual"], serde_json::Value::Null);
    assert_eq!(json["unmet"][0]["required"], "1.00");
    let back: MatchOutcome = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, o);
}

#[test]
fn rule_set_bits_are_stable() {
    assert_eq!(RuleKind::Tiers.bit(), 1);
    assert_eq!(RuleKind::TargetVenues.bit(), 1 << 10);
    assert_eq!(RuleKind::ProductValidity.bit(), 1 << 12);
    assert_eq!(RuleSet::from_bits(0xffff).len(), 13);
    assert_eq!(RuleSet::from_bits(0xffff).firm_side().len(), 11);
}

#[test]
fn the_latest_fiscal_year_counts() {
    let years = [
        FinancialYear { fiscal_year: 2024, revenue: None, invention_patents: Some(5), ..FinancialYear::default() },
        FinancialYear { fiscal_year: 2025, revenue: Some(d("1")), ..FinancialYear::default() },
        FinancialYear { fiscal_year: 2023, revenue: Some(d("2")), ..FinancialYear::default() },
    ];
    assert_eq!(latest_year(&years).map(|y| y.fiscal_year), Some(2025));
    assert_eq!(latest_year(&[]), None);
}

/// Every pair of a deterministic synthetic population: the two paths agree and scores stay
/// in their bands.
#[test]
fn fast_path_agrees_with_explanations_on_a_population() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let on = date(ON);
    let pick = |i: u64| i as usize;
    let products: Vec<CompiledProduct> = (0..40)
        .map(|i| {
            let mut e = Eligibility::default();
            if next(2) == 0 {
                e.tiers = vec![Tier::ALL[pick(next(3))]];
            }
            if next(2) == 0 {
                e.min_revenue = Some(Decimal::from(next(50_000_000)));
            }
            if next(2) == 0 {
                e.min_rd_ratio = Some(Decimal::new(next(80_000) as i64, 6));
            }
            if next(3) == 0 {
                e.min_years_in_operation = Some(next(6) as i32);
            }
            if next(3) == 0 {
                e.industry_prefixes = vec!["C".into(), "I65".into()];
            }
            e.reserve_pool_only = next(5) == 0;
            e.lead_bank_only = next(7) == 0;
            CompiledProduct::new(&MatchProduct {
                id: Uuid::from_u128(i),
                bank_id: BankId::from_uuid(Uuid::from_u128(1000 + u128::from(next(3) as u8))),
                eligibility: e,
                valid_from: None,
                valid_to: (next(10) == 0).then(|| date("2025-01-01")),
                active: next(20) != 0,
            })
        })
        .collect();
    for i in 0..200u128 {
        let f = MatchFirm {
            id: FirmId::from_uuid(Uuid::from_u128(i)),
            tier: Tier::ALL.get(pick(next(4))).copied(),
            revenue: (next(10) != 0).then(|| Decimal::from(next(60_000_000))),
            rd_expense: (next(10) != 0).then(|| Decimal::from(next(3_000_000))),
            in_reserve_pool: next(2) == 0,
            lead_bank_id: Some(BankId::from_uuid(Uuid::from_u128(1000 + u128::from(next(3) as u8)))),
            industry_code: ["C3562", "I6510", "F5123"][pick(next(3))].into(),
            ..firm()
        };
        let facts = FirmFacts::new(&f, on);
        for p in &products {
            let v = evaluate(&facts, p);
            let o = explain(&facts, p);
            assert_eq!(o.verdict(), v);
            assert!(if v.eligible { v.score >= 60 } else { v.score <= 58 }, "{v:?}");
        }
    }
}
