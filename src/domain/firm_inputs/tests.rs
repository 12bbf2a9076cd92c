use super::*;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn statement(
    key: &str,
    holds: bool,
    on: &str,
    until: Option<&str>,
    source: AttestationSource,
    at: i64,
) -> AttestationStatement {
    AttestationStatement {
        id: Uuid::now_v7(),
        key: key.to_owned(),
        holds,
        stated_on: date(on),
        valid_until: until.map(date),
        document_ref: None,
        remark: None,
        source,
        recorded_at: DateTime::from_timestamp(at, 0).unwrap(),
    }
}

#[test]
fn dated_values_are_picked_as_of_the_date() {
    let entry = |on: &str, amount: &str| ShareCapitalEntry {
        effective_on: date(on),
        amount: d(amount),
        document_ref: None,
        source: InputSource::Office,
    };
    let history = [entry("2024-07-01", "30000000"), entry("2020-01-01", "10000000")];
    // (date, expected amount)
    let cases = [
        ("2019-12-31", None),
        ("2020-01-01", Some("10000000")),
        ("2024-06-30", Some("10000000")),
        ("2024-07-01", Some("30000000")),
    ];
    for (on, expected) in cases {
        assert_eq!(share_capital_on(&history, date(on)).map(|e| e.amount), expected.map(d), "{on}");
    }
    let est = |on: &str, amount: &str| MarketValueEstimate {
        estimated_on: date(on),
        amount: d(amount),
        basis: None,
        document_ref: None,
        source: InputSource::Firm,
    };
    let estimates = [est("2023-03-01", "300000000"), est("2025-03-01", "900000000")];
    assert_eq!(estimate_on(&estimates, date("2024-12-31")).map(|e| e.amount), Some(d("300000000")));
    assert_eq!(estimate_on(&estimates, date("2025-03-01")).map(|e| e.amount), Some(d("900000000")));
    assert!(estimate_on(&estimates, date("2023-02-28")).is_none());
}

#[test]
fn the_latest_statement_in_force_speaks_and_the_office_wins_a_tie() {
    use AttestationSource::{Office, SelfDeclared};
    let k = "lg_own_brand";
    let all = vec![
        statement(k, true, "2024-01-01", None, SelfDeclared, 1),
        statement(k, false, "2024-06-01", None, Office, 2),
        statement(k, true, "2025-01-01", Some("2025-12-31"), SelfDeclared, 3),
        statement(k, false, "2025-01-01", Some("2025-03-31"), Office, 0),
        statement("other", true, "2020-01-01", None, Office, 0),
    ];
    // (date, holds, source)
    let cases = [
        ("2023-12-31", None),
        ("2024-01-01", Some((true, SelfDeclared))),
        ("2024-06-01", Some((false, Office))),
        ("2025-01-01", Some((false, Office))),
        ("2025-03-31", Some((false, Office))),
        ("2025-04-01", Some((true, SelfDeclared))),
        ("2026-01-01", Some((false, Office))),
    ];
    for (on, expected) in cases {
        let got = attestation_in_force(&all, k, date(on)).map(|s| (s.holds, s.source));
        assert_eq!(got, expected, "{on}");
    }
}

#[test]
fn patch_names_every_bad_field_with_its_path() {
    let today = date("2025-06-30");
    let patch: ReadinessInputsPatch = serde_json::from_value(serde_json::json!({
        "share_capital": [
            {"effective_on": "2024-12-31", "amount": "30000000"},
            {"effective_on": "2024-12-31", "amount": "0"},
            {"effective_on": "2026-01-01", "amount": "-5"}
        ],
        "market_value_estimates": [{"amount": "1.005"}],
        "equity_financings": {"complete_through": "tomorrow", "rounds": [
            {"paid_in_on": "2024-01-01", "amount": "20000000", "post_money_valuation": "10000000", "round": "series_z"}
        ]},
        "tier_recognitions": [
            {"tier": "provincial_srdi", "recognized_year": 2023},
            {"tier": "little_giant", "recognized_year": 2022},
            {"tier": "bronze", "recognized_year": 1999}
        ]
    }))
    .unwrap();
    let errors = patch.validate(InputSource::Office, today).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "share_capital[1].amount",
            "share_capital[1].effective_on",
            "share_capital[2].effective_on",
            "share_capital[2].amount",
            "market_value_estimates[0].estimated_on",
            "market_value_estimates[0].amount",
            "equity_financings.complete_through",
            "equity_financings.rounds[0].post_money_valuation",
            "equity_financings.rounds[0].round",
            "tier_recognitions[2].tier",
            "tier_recognitions[2].recognized_year",
            "tier_recognitions[1].recognized_year",
        ],
        "{errors:#?}"
    );
}

#[test]
fn a_valid_patch_is_sorted_and_attributed() {
    let patch: ReadinessInputsPatch = serde_json::from_value(serde_json::json!({
            "share_capital": [{"effective_on": "2024-12-31", "amount": "30000000"}, {"effective_on": "2020-05-01", "amount": "5000000"}],
            "equity_financings": {"rounds": [{"paid_in_on": "2024-01-01", "amount": "20000000", "investor_kind": "vc_pe", "round": "series_b"}]}
        }))
        .unwrap();
    let v = patch.validate(InputSource::Firm, date("2025-06-30")).unwrap();
    let sc = v.share_capital.unwrap();
    assert_eq!(sc[0].effective_on, date("2020-05-01"));
    assert!(sc.iter().all(|e| e.source == InputSource::Firm));
    let fin = v.equity_financings.unwrap();
    assert_eq!(fin.complete_through, None);
    assert_eq!(fin.rounds[0].round, Some(InvestmentRound::SeriesB));
    assert!(v.market_value_estimates.is_none() && v.tier_recognitions.is_none());
}

#[test]
fn tier_inputs_are_checked_at_their_bounds() {
    let today = date("2025-06-30");
    // (field setter, ok?)
    type Set = fn(&mut TierInputsInput);
    let cases: &[(&str, Set, bool)] = &[
        ("digitalisation_level", |i| i.digitalisation_level = Some(1), true),
        ("digitalisation_level", |i| i.digitalisation_level = Some(4), true),
        ("digitalisation_level", |i| i.digitalisation_level = Some(0), false),
        ("digitalisation_level", |i| i.digitalisation_level = Some(5), false),
        ("quality_items", |i| i.quality_items = Some(4), true),
        ("quality_items", |i| i.quality_items = Some(5), false),
        ("innovative_operation_items", |i| i.innovative_operation_items = Some(6), true),
        ("innovative_operation_items", |i| i.innovative_operation_items = Some(7), false),
        ("national_niche_market_share", |i| i.national_niche_market_share = Some("100".into()), true),
        ("national_niche_market_share", |i| i.national_niche_market_share = Some("100.01".into()), false),
        ("niche_market_years", |i| i.niche_market_years = Some("-1".into()), false),
        ("ip_best_class", |i| i.ip_best_class = Some("class_iii".into()), false),
        (
            "class_i_ip_in_use",
            |i| {
                i.ip_best_class = Some("class_ii".into());
                i.class_i_ip_in_use = Some(2);
            },
            false,
        ),
    ];
    for (field, set, ok) in cases {
        let mut input = TierInputsInput::default();
        set(&mut input);
        let r = input.validate(2024, "", InputSource::Office, today);
        match r {
            Ok(_) => assert!(ok, "{field} accepted"),
            Err(errors) => {
                assert!(!ok, "{field} refused: {errors:?}");
                assert_eq!(errors[0].field, *field);
            }
        }
    }
    assert_eq!(
        TierInputsInput::default().validate(2026, "tier_inputs.2026", InputSource::Office, today).unwrap_err()[0].field,
        "tier_inputs.2026.fiscal_year"
    );
}

#[test]
fn attestation_input_rules() {
    let today = date("2025-06-30");
    let known = |k: &str| k == "lg_own_brand";
    let ok = AttestationInput { key: Some("lg_own_brand".into()), holds: Some(true), ..Default::default() };
    let v = ok.validate(today, known).unwrap();
    assert_eq!(v.stated_on, today);
    let bad = AttestationInput {
        key: Some("made_up".into()),
        holds: None,
        stated_on: Some("2025-07-01".into()),
        valid_until: Some("2020-01-01".into()),
        ..Default::default()
    };
    let fields: Vec<String> = bad.validate(today, known).unwrap_err().into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["key", "holds", "stated_on"]);
    let backwards = AttestationInput { valid_until: Some("2020-01-01".into()), ..ok };
    assert_eq!(backwards.validate(today, known).unwrap_err()[0].field, "valid_until");
}
