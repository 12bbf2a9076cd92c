use super::*;
use crate::domain::ids::BankId;
use crate::domain::product::{Collateral, Eligibility, ProductKind};
use chrono::DateTime;

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("date literal")
}

#[test]
fn every_transition_for_every_actor() {
    use Actor::*;
    // (from, to, actors allowed); every other combination must be refused.
    let legal: &[(S, S, &[Actor])] = &[
        (S::Submitted, S::UnderReview, &[Bank, Admin]),
        (S::UnderReview, S::Approved, &[Bank, Admin]),
        (S::Approved, S::Disbursed, &[Bank, Admin]),
        (S::Submitted, S::Declined, &[Bank, Admin]),
        (S::UnderReview, S::Declined, &[Bank, Admin]),
        (S::Submitted, S::Withdrawn, &[Enterprise]),
        (S::UnderReview, S::Withdrawn, &[Enterprise]),
    ];
    let mut checked = 0;
    for &from in S::ALL {
        for &to in S::ALL {
            for &actor in Actor::ALL {
                let rule = legal.iter().find(|(f, t, _)| *f == from && *t == to);
                let ok = rule.is_some_and(|(_, _, who)| who.contains(&actor));
                match check_transition(from, to, actor) {
                    Ok(()) => assert!(ok, "{from} → {to} by {actor} should be refused"),
                    Err(err) => {
                        assert!(!ok, "{from} → {to} by {actor} should be allowed");
                        assert_eq!(err.forbidden, rule.is_some(), "{from} → {to} by {actor}");
                        assert_eq!(err.allowed, allowed_next(from, actor));
                        assert!(!err.allowed.contains(&to));
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 6 * 3);
}

#[test]
fn allowed_moves_per_role() {
    use Actor::*;
    let cases: &[(S, Actor, &[S])] = &[
        (S::Submitted, Bank, &[S::UnderReview, S::Declined]),
        (S::Submitted, Enterprise, &[S::Withdrawn]),
        (S::UnderReview, Bank, &[S::Approved, S::Declined]),
        (S::UnderReview, Admin, &[S::Approved, S::Declined]),
        (S::UnderReview, Enterprise, &[S::Withdrawn]),
        (S::Approved, Bank, &[S::Disbursed]),
        (S::Approved, Enterprise, &[]),
        (S::Disbursed, Bank, &[]),
        (S::Declined, Admin, &[]),
        (S::Withdrawn, Enterprise, &[]),
    ];
    for (from, actor, want) in cases {
        assert_eq!(allowed_next(*from, *actor), want.to_vec(), "{from} by {actor}");
    }
    for s in S::ALL {
        assert_eq!(s.is_final(), Actor::ALL.iter().all(|a| allowed_next(*s, *a).is_empty()), "{s}");
    }
}

fn product() -> LoanProduct {
    let terms = crate::domain::product::ProductDraft {
        name: Some("科创贷".into()),
        kind: Some(ProductKind::SrdiLoan),
        amount_min: Some(d("100000")),
        amount_max: Some(d("5000000")),
        term_months_min: Some(6),
        term_months_max: Some(36),
        rate_spread_bp: Some(-30),
        collateral: vec![Collateral::Credit],
        eligibility: Eligibility::default(),
        valid_from: Some(date("2025-01-01")),
        valid_to: Some(date("2025-12-31")),
        ..Default::default()
    }
    .validate()
    .expect("valid product");
    LoanProduct::new(
        Uuid::from_u128(7),
        BankId::from_uuid(Uuid::from_u128(8)),
        terms,
        true,
        DateTime::UNIX_EPOCH,
        DateTime::UNIX_EPOCH,
    )
}

fn codes(r: Result<NewApplication, Vec<FieldError>>) -> Vec<(String, String)> {
    r.err().unwrap_or_default().into_iter().map(|f| (f.field, f.code)).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect()
}

#[test]
fn applying() {
    let p = product();
    let today = date("2025-06-30");
    let good = ApplicationDraft {
        product_id: Some(p.id),
        amount: Some(d("3000000")),
        term_months: Some(12),
        purpose: Some(" 采购研发设备 ".into()),
    };
    let ok = good.validate(Some(&p), today).expect("valid");
    assert_eq!((ok.amount.to_string().as_str(), ok.purpose.as_str()), ("3000000.00", "采购研发设备"));

    assert_eq!(
        codes(ApplicationDraft::default().validate(None, today)),
        pairs(&[
            ("product_id", "required"),
            ("amount", "required"),
            ("term_months", "required"),
            ("purpose", "required")
        ])
    );
    assert_eq!(codes(good.validate(None, today)), pairs(&[("product_id", "not_found")]));
    assert_eq!(codes(good.validate(Some(&p), date("2026-01-01"))), pairs(&[("product_id", "unavailable")]));
    let withdrawn = LoanProduct { active: false, ..p.clone() };
    assert_eq!(codes(good.validate(Some(&withdrawn), today)), pairs(&[("product_id", "unavailable")]));

    type Edit = fn(&mut ApplicationDraft);
    let cases: &[(Edit, &[(&str, &str)])] = &[
        (|a| a.amount = Some(d("100000")), &[]),
        (|a| a.amount = Some(d("99999.99")), &[("amount", "out_of_range")]),
        (|a| a.amount = Some(d("5000000")), &[]),
        (|a| a.amount = Some(d("5000000.01")), &[("amount", "out_of_range")]),
        (|a| a.amount = Some(d("300000.001")), &[("amount", "invalid")]),
        (|a| a.amount = Some(d("-1")), &[("amount", "out_of_range")]),
        (|a| a.term_months = Some(5), &[("term_months", "out_of_range")]),
        (|a| a.term_months = Some(6), &[]),
        (|a| a.term_months = Some(36), &[]),
        (|a| a.term_months = Some(37), &[("term_months", "out_of_range")]),
        (|a| a.purpose = Some("  ".into()), &[("purpose", "invalid")]),
        (|a| a.purpose = Some("x".repeat(501)), &[("purpose", "too_long")]),
    ];
    for (edit, want) in cases {
        let mut a = good.clone();
        edit(&mut a);
        assert_eq!(codes(a.validate(Some(&p), today)), pairs(want), "{a:?}");
    }
}

fn invalid(r: Result<StatusChange, StatusChangeError>) -> Vec<(String, String)> {
    match r {
        Err(StatusChangeError::Invalid(list)) => list.into_iter().map(|f| (f.field, f.code)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[test]
fn approving() {
    let p = product();
    let ctx = ApplicationContext {
        status: S::UnderReview,
        submitted_on: date("2025-06-01"),
        product: &p,
        approval: None,
        today: date("2025-06-30"),
    };
    let good = StatusChangeDraft {
        status: Some(S::Approved),
        approved_amount: Some(d("2000000")),
        approved_term_months: Some(12),
        approved_rate: Some(d("2.95")),
        ..Default::default()
    };
    match good.validate(&ctx, Actor::Bank) {
        Ok(StatusChange::Approved(a)) => {
            assert_eq!(a.approved_on, ctx.today);
            assert_eq!(a.amount.to_string(), "2000000.00");
        }
        other => panic!("{other:?}"),
    }
    type Edit = fn(&mut StatusChangeDraft);
    let cases: &[(Edit, &[(&str, &str)])] = &[
        (|s| s.approved_amount = Some(d("5000000.01")), &[("approved_amount", "out_of_range")]),
        (|s| s.approved_amount = Some(d("99999.99")), &[("approved_amount", "out_of_range")]),
        (|s| s.approved_term_months = Some(37), &[("approved_term_months", "out_of_range")]),
        (|s| s.approved_rate = Some(Decimal::ZERO), &[("approved_rate", "out_of_range")]),
        (|s| s.approved_rate = Some(d("24.01")), &[("approved_rate", "out_of_range")]),
        (|s| s.approved_on = Some(date("2025-05-31")), &[("approved_on", "out_of_range")]),
        (|s| s.approved_on = Some(date("2025-06-01")), &[]),
        (|s| s.approved_on = Some(date("2025-07-01")), &[("approved_on", "out_of_range")]),
        (|s| s.disbursed_amount = Some(d("1")), &[("disbursed_amount", "not_allowed")]),
        (|s| s.reason_code = Some(DeclineReason::Other), &[("reason_code", "not_allowed")]),
        (
            |s| {
                s.approved_amount = None;
                s.approved_term_months = None;
                s.approved_rate = None;
            },
            &[("approved_amount", "required"), ("approved_term_months", "required"), ("approved_rate", "required")],
        ),
    ];
    for (edit, want) in cases {
        let mut s = good.clone();
        edit(&mut s);
        let got = match s.validate(&ctx, Actor::Bank) {
            Ok(_) => vec![],
            r => invalid(r),
        };
        assert_eq!(got, pairs(want), "{s:?}");
    }
    // Illegal moves are reported alone, before any field check.
    assert!(matches!(
        StatusChangeDraft { approved_rate: None, ..good.clone() }.validate(&ctx, Actor::Enterprise),
        Err(StatusChangeError::Illegal(IllegalTransition { forbidden: true, .. }))
    ));
    let submitted = ApplicationContext { status: S::Submitted, ..ctx };
    assert!(matches!(
        good.validate(&submitted, Actor::Bank),
        Err(StatusChangeError::Illegal(IllegalTransition { forbidden: false, .. }))
    ));
    assert_eq!(invalid(StatusChangeDraft::default().validate(&ctx, Actor::Bank)), pairs(&[("status", "required")]));
}

#[test]
fn disbursing() {
    let p = product();
    let approval =
        Approval { amount: d("2000000.00"), term_months: 12, rate_percent: d("2.95"), approved_on: date("2025-06-10") };
    let ctx = ApplicationContext {
        status: S::Approved,
        submitted_on: date("2025-06-01"),
        product: &p,
        approval: Some(&approval),
        today: date("2025-06-30"),
    };
    let draft = |amount: &str, on: Option<&str>| StatusChangeDraft {
        status: Some(S::Disbursed),
        disbursed_amount: Some(d(amount)),
        disbursed_on: on.map(date),
        ..Default::default()
    };
    type Case<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        ("2000000.00", None, &[]),
        ("1500000", Some("2025-06-10"), &[]),
        ("2000000.01", None, &[("disbursed_amount", "out_of_range")]),
        ("0", None, &[("disbursed_amount", "out_of_range")]),
        ("1000000", Some("2025-06-09"), &[("disbursed_on", "out_of_range")]),
        ("1000000", Some("2025-07-01"), &[("disbursed_on", "out_of_range")]),
    ];
    for (amount, on, want) in cases {
        let got = match draft(amount, *on).validate(&ctx, Actor::Bank) {
            Ok(StatusChange::Disbursed(x)) => {
                assert_eq!(x.disbursed_on, on.map(date).unwrap_or(ctx.today));
                vec![]
            }
            r => invalid(r),
        };
        assert_eq!(got, pairs(want), "{amount} {on:?}");
    }
    let no_approval = ApplicationContext { approval: None, ..ctx };
    assert_eq!(invalid(draft("1", None).validate(&no_approval, Actor::Admin)), pairs(&[("status", "conflict")]));
}

#[test]
fn declining_and_withdrawing() {
    let p = product();
    let ctx = ApplicationContext {
        status: S::Submitted,
        submitted_on: date("2025-06-01"),
        product: &p,
        approval: None,
        today: date("2025-06-30"),
    };
    let decline = |code: Option<DeclineReason>, text: Option<&str>| StatusChangeDraft {
        status: Some(S::Declined),
        reason_code: code,
        reason_text: text.map(str::to_owned),
        ..Default::default()
    };
    assert_eq!(
        decline(Some(DeclineReason::CreditRecord), None).validate(&ctx, Actor::Bank),
        Ok(StatusChange::Declined(Decline { reason_code: DeclineReason::CreditRecord, reason_text: None }))
    );
    assert!(decline(Some(DeclineReason::Other), Some("行业限额已满")).validate(&ctx, Actor::Admin).is_ok());
    assert_eq!(
        invalid(decline(Some(DeclineReason::Other), None).validate(&ctx, Actor::Bank)),
        pairs(&[("reason_text", "required")])
    );
    assert_eq!(invalid(decline(None, None).validate(&ctx, Actor::Bank)), pairs(&[("reason_code", "required")]));
    assert_eq!(
        invalid(decline(Some(DeclineReason::Other), Some(&"长".repeat(501))).validate(&ctx, Actor::Bank)),
        pairs(&[("reason_text", "too_long")])
    );

    let withdraw =
        StatusChangeDraft {
            status: Some(S::Withdrawn), remark: Some(" 已获他行授信 ".into()), ..Default::default()
        };
    assert_eq!(withdraw.validate(&ctx, Actor::Enterprise), Ok(StatusChange::Withdrawn));
    assert_eq!(withdraw.remark().as_deref(), Some("已获他行授信"));
    assert!(matches!(
        withdraw.validate(&ctx, Actor::Bank),
        Err(StatusChangeError::Illegal(IllegalTransition { forbidden: true, .. }))
    ));
    let review = StatusChangeDraft { status: Some(S::UnderReview), ..Default::default() };
    assert_eq!(review.validate(&ctx, Actor::Bank).map(|c| c.status()), Ok(S::UnderReview));
}

#[test]
fn wire_spellings() {
    assert_eq!(serde_json::to_value(S::UnderReview).expect("json"), "under_review");
    assert_eq!(serde_json::to_value(DeclineReason::InsufficientCollateral).expect("json"), "insufficient_collateral");
    let body = r#"{"status":"declined","reason_code":"credit_record","reason_text":"近两年有逾期"}"#;
    let s: StatusChangeDraft = serde_json::from_str(body).expect("parses");
    assert_eq!(s.reason_code, Some(DeclineReason::CreditRecord));
    assert!(serde_json::from_str::<StatusChangeDraft>(r#"{"status":"approved","amount":"1"}"#).is_err());
}
