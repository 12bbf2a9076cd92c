use super::*;

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("date literal")
}

fn good() -> ProductDraft {
    ProductDraft {
        name: Some("专精特新贷".into()),
        kind: Some(ProductKind::SrdiLoan),
        amount_min: Some(d("500000")),
        amount_max: Some(d("10000000")),
        term_months_min: Some(6),
        term_months_max: Some(36),
        rate_spread_bp: Some(-20),
        lpr_tenor: None,
        fixed_rate: None,
        collateral: vec![Collateral::Credit],
        eligibility: Eligibility {
            tiers: vec![Tier::ProvincialSrdi],
            min_years_in_operation: Some(2),
            min_revenue: Some(d("10000000")),
            min_rd_ratio: Some(d("0.03")),
            min_invention_patents: Some(1),
            tax_credit_grades: vec![TaxCreditGrade::B, TaxCreditGrade::A],
            cities: vec![City::Jinan],
            industry_prefixes: vec![" c35 ".into(), "I65".into()],
            ..Eligibility::default()
        },
        valid_from: Some(date("2025-01-01")),
        valid_to: Some(date("2025-12-31")),
    }
}

fn fields(r: Result<ProductTerms, Vec<FieldError>>) -> Vec<(String, String)> {
    match r {
        Ok(_) => vec![],
        Err(list) => list.into_iter().map(|f| (f.field, f.code)).collect(),
    }
}

#[test]
fn a_good_draft_validates_and_normalises() {
    let t = good().validate().expect("valid");
    assert_eq!(t.amount_max.to_string(), "10000000.00");
    assert_eq!(t.amount_min.map(|a| a.to_string()).as_deref(), Some("500000.00"));
    assert_eq!(t.pricing, RatePricing::LprSpread { tenor: LprTenor::OneYear, spread_bp: -20 });
    assert_eq!(t.eligibility.industry_prefixes, ["C35", "I65"]);
    assert_eq!(t.eligibility.tax_credit_grades, [TaxCreditGrade::A, TaxCreditGrade::B]);
    assert_eq!(t.amount_range(), (d("500000"), d("10000000")));
    assert_eq!(t.term_range(), (6, 36));
    // A round trip through the API shape gives the same terms back.
    let product = LoanProduct::new(
        Uuid::nil(),
        BankId::from_uuid(Uuid::nil()),
        t.clone(),
        true,
        DateTime::UNIX_EPOCH,
        DateTime::UNIX_EPOCH,
    );
    assert_eq!(product.terms().expect("still valid"), t);
    assert_eq!(ProductDraft::from(&t).validate().expect("valid"), t);
}

#[test]
fn every_bad_field_is_listed_at_once() {
    let bad = ProductDraft {
        name: Some("  ".into()),
        kind: None,
        amount_min: Some(d("20000000")),
        amount_max: Some(d("10000000.005")),
        term_months_min: Some(0),
        term_months_max: Some(361),
        rate_spread_bp: Some(-20),
        lpr_tenor: None,
        fixed_rate: Some(d("3.45")),
        collateral: vec![],
        eligibility: Eligibility {
            min_years_in_operation: Some(-1),
            min_revenue: Some(d("-5")),
            min_rd_ratio: Some(d("3")),
            min_invention_patents: Some(-2),
            industry_prefixes: vec![
                "C".into(),
                "X35".into(),
                "C3".into(),
                "C65".into(),
                "C35621".into(),
                "3562".into(),
                "".into(),
            ],
            ..Eligibility::default()
        },
        valid_from: Some(date("2025-12-31")),
        valid_to: Some(date("2025-01-01")),
    };
    let got = fields(bad.validate());
    let expected: Vec<(String, String)> = [
        ("name", "invalid"),
        ("kind", "required"),
        ("amount_max", "invalid"),
        ("term_months_min", "out_of_range"),
        ("term_months_max", "out_of_range"),
        ("fixed_rate", "conflict"),
        ("collateral", "required"),
        ("eligibility.min_years_in_operation", "out_of_range"),
        ("eligibility.min_revenue", "out_of_range"),
        ("eligibility.min_rd_ratio", "out_of_range"),
        ("eligibility.min_invention_patents", "out_of_range"),
        ("eligibility.industry_prefixes.1", "invalid"),
        ("eligibility.industry_prefixes.2", "invalid"),
        ("eligibility.industry_prefixes.3", "invalid"),
        ("eligibility.industry_prefixes.4", "invalid"),
        ("eligibility.industry_prefixes.5", "invalid"),
        ("eligibility.industry_prefixes.6", "invalid"),
        ("valid_to", "out_of_range"),
    ]
    .iter()
    .map(|(f, c)| (f.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn an_empty_draft_names_every_required_field() {
    let got = fields(ProductDraft::default().validate());
    let names: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["name", "kind", "amount_max", "term_months_max", "rate_spread_bp", "collateral"]);
    assert!(got.iter().all(|(_, c)| c == "required"));
}

#[test]
fn single_field_rules() {
    type Case = (&'static str, fn(&mut ProductDraft), &'static [(&'static str, &'static str)]);
    let cases: &[Case] = &[
        ("min above max", |p| p.amount_min = Some(d("10000000.01")), &[("amount_min", "out_of_range")]),
        ("min equals max", |p| p.amount_min = Some(d("10000000")), &[]),
        ("zero amount", |p| p.amount_max = Some(Decimal::ZERO), &[("amount_max", "out_of_range")]),
        ("negative min", |p| p.amount_min = Some(d("-1")), &[("amount_min", "out_of_range")]),
        ("fen ok", |p| p.amount_max = Some(d("10000000.01")), &[]),
        ("trailing zeros ok", |p| p.amount_max = Some(d("10000000.0000")), &[]),
        ("sub-fen", |p| p.amount_min = Some(d("0.001")), &[("amount_min", "invalid")]),
        ("huge", |p| p.amount_max = Some(d("1000000000000000.01")), &[("amount_max", "out_of_range")]),
        ("term 1", |p| p.term_months_min = Some(1), &[]),
        ("term 360", |p| p.term_months_max = Some(360), &[]),
        ("term min > max", |p| p.term_months_min = Some(37), &[("term_months_min", "out_of_range")]),
        ("no price", |p| p.rate_spread_bp = None, &[("rate_spread_bp", "required")]),
        ("spread floor", |p| p.rate_spread_bp = Some(-300), &[]),
        ("spread below floor", |p| p.rate_spread_bp = Some(-301), &[("rate_spread_bp", "out_of_range")]),
        ("spread ceiling", |p| p.rate_spread_bp = Some(1000), &[]),
        ("spread above ceiling", |p| p.rate_spread_bp = Some(1001), &[("rate_spread_bp", "out_of_range")]),
        (
            "fixed",
            |p| {
                p.rate_spread_bp = None;
                p.fixed_rate = Some(d("3.45"))
            },
            &[],
        ),
        (
            "fixed zero",
            |p| {
                p.rate_spread_bp = None;
                p.fixed_rate = Some(Decimal::ZERO)
            },
            &[("fixed_rate", "out_of_range")],
        ),
        (
            "fixed 24",
            |p| {
                p.rate_spread_bp = None;
                p.fixed_rate = Some(d("24"))
            },
            &[],
        ),
        (
            "fixed above 24",
            |p| {
                p.rate_spread_bp = None;
                p.fixed_rate = Some(d("24.0001"))
            },
            &[("fixed_rate", "out_of_range")],
        ),
        (
            "fixed 5 decimals",
            |p| {
                p.rate_spread_bp = None;
                p.fixed_rate = Some(d("3.45001"))
            },
            &[("fixed_rate", "invalid")],
        ),
        (
            "tenor with fixed",
            |p| {
                p.rate_spread_bp = None;
                p.fixed_rate = Some(d("3.45"));
                p.lpr_tenor = Some(LprTenor::FiveYear)
            },
            &[("lpr_tenor", "not_allowed")],
        ),
        ("rd 0", |p| p.eligibility.min_rd_ratio = Some(Decimal::ZERO), &[]),
        ("rd 1", |p| p.eligibility.min_rd_ratio = Some(Decimal::ONE), &[]),
        ("rd 6 dp", |p| p.eligibility.min_rd_ratio = Some(d("0.034567")), &[]),
        ("rd 7 dp", |p| p.eligibility.min_rd_ratio = Some(d("0.0345671")), &[("eligibility.min_rd_ratio", "invalid")]),
        ("rd percent", |p| p.eligibility.min_rd_ratio = Some(d("3")), &[("eligibility.min_rd_ratio", "out_of_range")]),
        (
            "rd negative",
            |p| p.eligibility.min_rd_ratio = Some(d("-0.01")),
            &[("eligibility.min_rd_ratio", "out_of_range")],
        ),
        ("rd absurd", |p| p.eligibility.min_rd_ratio = Some(d("101")), &[("eligibility.min_rd_ratio", "out_of_range")]),
        (
            "min revenue sub-fen",
            |p| p.eligibility.min_revenue = Some(d("1.001")),
            &[("eligibility.min_revenue", "invalid")],
        ),
        ("min revenue zero", |p| p.eligibility.min_revenue = Some(Decimal::ZERO), &[]),
        ("years 50", |p| p.eligibility.min_years_in_operation = Some(50), &[]),
        (
            "years 51",
            |p| p.eligibility.min_years_in_operation = Some(51),
            &[("eligibility.min_years_in_operation", "out_of_range")],
        ),
        ("section only", |p| p.eligibility.industry_prefixes = vec!["T".into()], &[]),
        ("last division", |p| p.eligibility.industry_prefixes = vec!["T97".into()], &[]),
        (
            "division 98",
            |p| p.eligibility.industry_prefixes = vec!["T98".into()],
            &[("eligibility.industry_prefixes.0", "invalid")],
        ),
        (
            "letter U",
            |p| p.eligibility.industry_prefixes = vec!["U".into()],
            &[("eligibility.industry_prefixes.0", "invalid")],
        ),
        ("same day window", |p| p.valid_to = p.valid_from, &[]),
        ("no collateral", |p| p.collateral.clear(), &[("collateral", "required")]),
        ("long name", |p| p.name = Some("贷".repeat(101)), &[("name", "too_long")]),
        ("name at limit", |p| p.name = Some("贷".repeat(100)), &[]),
    ];
    for (what, edit, expected) in cases {
        let mut p = good();
        edit(&mut p);
        let got = fields(p.validate());
        let want: Vec<(String, String)> = expected.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn unknown_fields_and_values_are_refused_by_serde() {
    let typo = r#"{"name":"x","eligibility":{"min_revnue":"1"}}"#;
    assert!(serde_json::from_str::<ProductDraft>(typo).is_err());
    let kind = r#"{"kind":"mortgage_loan"}"#;
    assert!(serde_json::from_str::<ProductDraft>(kind).is_err());
    let ok = r#"{"name":"x","kind":"little_giant_loan","rate_spread_bp":-35,"lpr_tenor":"five_year",
                     "amount_max":"5000000.00","eligibility":{"tiers":["little_giant"],"min_rd_ratio":"0.05"}}"#;
    let p: ProductDraft = serde_json::from_str(ok).expect("parses");
    assert_eq!(p.rate_spread_bp, Some(-35));
    assert_eq!(p.eligibility.min_rd_ratio, Some(d("0.05")));
}

#[test]
fn api_product_uses_the_brief_field_names() {
    let t = good().validate().expect("valid");
    let json = serde_json::to_value(LoanProduct::new(
        Uuid::nil(),
        BankId::from_uuid(Uuid::nil()),
        t,
        true,
        DateTime::UNIX_EPOCH,
        DateTime::UNIX_EPOCH,
    ))
    .expect("serialises");
    assert_eq!(json["rate_spread_bp"], -20);
    assert_eq!(json["fixed_rate"], serde_json::Value::Null);
    assert_eq!(json["amount_max"], "10000000.00");
    assert_eq!(json["kind"], "srdi_loan");
    assert_eq!(json["eligibility"]["min_rd_ratio"], "0.03");
    assert_eq!(json["eligibility"]["industry_prefixes"][0], "C35");
}

#[test]
fn effective_rates() {
    let fixing = LprFixing { effective_on: date("2025-05-20"), one_year: d("3.00"), five_year: d("3.50") };
    let cases = [
        (RatePricing::LprSpread { tenor: LprTenor::OneYear, spread_bp: -20 }, "2.80"),
        (RatePricing::LprSpread { tenor: LprTenor::OneYear, spread_bp: 0 }, "3.00"),
        (RatePricing::LprSpread { tenor: LprTenor::FiveYear, spread_bp: 35 }, "3.85"),
        (RatePricing::LprSpread { tenor: LprTenor::OneYear, spread_bp: -300 }, "0.00"),
        (RatePricing::Fixed { rate_percent: d("3.45") }, "3.45"),
    ];
    for (pricing, want) in cases {
        assert_eq!(effective_rate(&pricing, &fixing), d(want), "{pricing:?}");
    }
}

#[test]
fn lpr_lookup_takes_the_fixing_in_force() {
    let f = |on: &str, one: &str| LprFixing { effective_on: date(on), one_year: d(one), five_year: d("3.5") };
    let table = [f("2025-05-20", "3.00"), f("2024-10-21", "3.10"), f("2025-01-20", "3.10")];
    assert_eq!(lpr_on(&table, date("2024-10-20")), None);
    assert_eq!(lpr_on(&table, date("2024-10-21")).map(|x| x.effective_on), Some(date("2024-10-21")));
    assert_eq!(lpr_on(&table, date("2025-05-19")).map(|x| x.effective_on), Some(date("2025-01-20")));
    assert_eq!(lpr_on(&table, date("2025-05-20")).map(|x| x.effective_on), Some(date("2025-05-20")));
    assert_eq!(lpr_on(&table, date("2030-01-01")).map(|x| x.effective_on), Some(date("2025-05-20")));
}

#[test]
fn validity_window_is_inclusive() {
    let t = good().validate().expect("valid");
    assert!(!t.is_open_on(date("2024-12-31")));
    assert!(t.is_open_on(date("2025-01-01")));
    assert!(t.is_open_on(date("2025-12-31")));
    assert!(!t.is_open_on(date("2026-01-01")));
}

#[test]
fn sections_of_divisions() {
    for (division, section) in [
        (1, Some('A')),
        (5, Some('A')),
        (6, Some('B')),
        (13, Some('C')),
        (35, Some('C')),
        (43, Some('C')),
        (44, Some('D')),
        (65, Some('I')),
        (70, Some('K')),
        (97, Some('T')),
        (0, None),
        (98, None),
    ] {
        assert_eq!(industry_section(division), section, "{division}");
    }
}
