//! Financing applications: an enterprise applies for a product, the bank reviews it and reports
//! the outcome. The life cycle is a small state machine with roles:
//!
//! ```text
//! submitted ──► under_review ──► approved ──► disbursed     (bank or admin, each step)
//! submitted | under_review ──► declined                     (bank or admin; reason code + text)
//! submitted | under_review ──► withdrawn                    (enterprise only)
//! ```
//!
//! Who may do what:
//! - `bank` moves its own applications forward and declines them;
//! - `admin` (the SME office) may record the same bank-side outcomes, because banks that do not
//!   use the API report by phone or letter and the office keeps the programme figures;
//! - `enterprise` may only withdraw, and only before a decision: withdrawing an approved loan is
//!   declining the offer, and no such move exists yet.
//!
//! Ownership (this bank's product, this firm's application) is checked by the service layer;
//! this module decides only what a role may do. `disbursed`, `declined` and `withdrawn` are final.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::firm::vocabulary;
use crate::domain::product::{LoanProduct, positive_money, rate_percent, within};
use crate::domain::validate::{Errors, FieldError};

pub const MAX_TEXT_CHARS: usize = 500;

vocabulary!(
    ApplicationStatus {
        Submitted = "submitted" / "已提交",
        UnderReview = "under_review" / "审核中",
        Approved = "approved" / "已批准",
        Disbursed = "disbursed" / "已放款",
        Declined = "declined" / "未获批准",
        Withdrawn = "withdrawn" / "已撤回",
    }
);

impl ApplicationStatus {
    pub fn is_final(self) -> bool {
        matches!(self, ApplicationStatus::Disbursed | ApplicationStatus::Declined | ApplicationStatus::Withdrawn)
    }
}

vocabulary!(
    /// Who acts on an application (the roles of the brief that may).
    Actor {
        Enterprise = "enterprise" / "企业",
        Bank = "bank" / "合作银行",
        Admin = "admin" / "省中小企业主管部门（平台运营方）",
    }
);

vocabulary!(
    /// Why a bank declined, in the order banks screen (see the financing reference, §2.2).
    DeclineReason {
        EligibilityNotMet = "eligibility_not_met" / "不符合产品准入条件",
        CreditRecord = "credit_record" / "征信记录不良（逾期或关注类及以下贷款）",
        LegalOrCompliance = "legal_or_compliance" / "涉诉被执行或存在税务、行政违规",
        RepaymentCapacity = "repayment_capacity" / "经营现金流或还款能力不足",
        ExistingDebt = "existing_debt" / "负债过高或多头授信",
        InsufficientCollateral = "insufficient_collateral" / "担保或抵质押不足",
        IncompleteDocuments = "incomplete_documents" / "申请材料不全",
        FirmUnresponsive = "firm_unresponsive" / "企业未响应或无法联系",
        CreditPolicy = "credit_policy" / "不符合本行授信政策（行业、区域或额度）",
        Other = "other" / "其他原因",
    }
);

use ApplicationStatus as S;

/// Every legal move and who may make it. Anything not listed is illegal.
const TRANSITIONS: [(ApplicationStatus, ApplicationStatus, &[Actor]); 7] = [
    (S::Submitted, S::UnderReview, &[Actor::Bank, Actor::Admin]),
    (S::UnderReview, S::Approved, &[Actor::Bank, Actor::Admin]),
    (S::Approved, S::Disbursed, &[Actor::Bank, Actor::Admin]),
    (S::Submitted, S::Declined, &[Actor::Bank, Actor::Admin]),
    (S::UnderReview, S::Declined, &[Actor::Bank, Actor::Admin]),
    (S::Submitted, S::Withdrawn, &[Actor::Enterprise]),
    (S::UnderReview, S::Withdrawn, &[Actor::Enterprise]),
];

/// A refused move. `allowed` lists where this actor may go from `from` (empty: nowhere).
/// `forbidden` is true when the move exists but belongs to another role: answer 403 then,
/// 409 otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, thiserror::Error)]
#[error("{actor} may not move an application from {from} to {to}")]
pub struct IllegalTransition {
    pub from: ApplicationStatus,
    pub to: ApplicationStatus,
    pub actor: Actor,
    pub allowed: Vec<ApplicationStatus>,
    pub forbidden: bool,
}

/// The statuses `actor` may move an application to from `from`, in life-cycle order.
pub fn allowed_next(from: ApplicationStatus, actor: Actor) -> Vec<ApplicationStatus> {
    let mut v: Vec<_> =
        TRANSITIONS.iter().filter(|(f, _, who)| *f == from && who.contains(&actor)).map(|(_, t, _)| *t).collect();
    v.sort_unstable();
    v
}

pub fn check_transition(from: ApplicationStatus, to: ApplicationStatus, actor: Actor) -> Result<(), IllegalTransition> {
    match TRANSITIONS.iter().find(|(f, t, _)| *f == from && *t == to) {
        Some((_, _, who)) if who.contains(&actor) => Ok(()),
        found => {
            Err(IllegalTransition { from, to, actor, allowed: allowed_next(from, actor), forbidden: found.is_some() })
        }
    }
}

/// What an enterprise submits to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApplicationDraft {
    pub product_id: Option<Uuid>,
    #[schema(value_type = Option<String>, example = "3000000.00")]
    pub amount: Option<Decimal>,
    #[schema(example = 12)]
    pub term_months: Option<i32>,
    #[schema(example = "采购研发设备")]
    pub purpose: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    pub product_id: Uuid,
    pub amount: Decimal,
    pub term_months: i32,
    pub purpose: String,
}

impl ApplicationDraft {
    /// `product` is the product `product_id` names as the caller found it (`None`: not found or
    /// not visible). Amount and term must fit the product's ranges, and the product must be
    /// active and within its validity window on `today`. Eligibility is not required: a firm may
    /// apply to any open product, and the bank sees the match outcome alongside.
    pub fn validate(&self, product: Option<&LoanProduct>, today: NaiveDate) -> Result<NewApplication, Vec<FieldError>> {
        let mut e = Errors::default();
        let product_id = match (self.product_id, product) {
            (None, _) => {
                e.add("product_id", "required", "is required");
                None
            }
            (Some(_), None) => {
                e.add("product_id", "not_found", "no such product");
                None
            }
            (Some(id), Some(p)) if !p.active || !within(today, p.valid_from, p.valid_to) => {
                e.add("product_id", "unavailable", "the product is withdrawn or outside its validity window");
                Some(id)
            }
            (Some(id), Some(_)) => Some(id),
        };
        let amount = match self.amount {
            None => {
                e.add("amount", "required", "is required");
                None
            }
            Some(a) => positive_money(&mut e, "amount", a),
        };
        let term = e.required("term_months", self.term_months);
        let purpose = match self.purpose.as_deref() {
            None => {
                e.add("purpose", "required", "is required");
                None
            }
            p => e.text("purpose", p, MAX_TEXT_CHARS),
        };
        if let Some(p) = product {
            check_amount(&mut e, "amount", amount, p);
            check_term(&mut e, "term_months", term, p);
        }
        match (product_id, amount, term, purpose) {
            (Some(product_id), Some(amount), Some(term_months), Some(purpose)) if e.is_empty() => {
                Ok(NewApplication { product_id, amount, term_months, purpose })
            }
            _ => Err(e.list),
        }
    }
}

fn check_amount(e: &mut Errors, field: &str, amount: Option<Decimal>, p: &LoanProduct) {
    let Some(a) = amount else { return };
    let lo = p.amount_min.unwrap_or(Decimal::ZERO);
    if a < lo || a > p.amount_max {
        e.add(field, "out_of_range", format!("must be within the product's range {lo}..={}", p.amount_max));
    }
}

fn check_term(e: &mut Errors, field: &str, term: Option<i32>, p: &LoanProduct) {
    let Some(t) = term else { return };
    let lo = p.term_months_min.unwrap_or(1);
    if t < lo || t > p.term_months_max {
        e.add(field, "out_of_range", format!("must be within the product's range {lo}..={} months", p.term_months_max));
    }
}

/// A request to move an application (`POST /v1/applications/{id}/status`, say). Only the fields
/// of the target status may be given; the rest must be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StatusChangeDraft {
    pub status: Option<ApplicationStatus>,
    /// `declined` only, required there.
    pub reason_code: Option<DeclineReason>,
    /// `declined` only; required when `reason_code` is `other`.
    pub reason_text: Option<String>,
    /// `approved` only, required there; within the product's amount range.
    #[schema(value_type = Option<String>, example = "3000000.00")]
    pub approved_amount: Option<Decimal>,
    /// `approved` only, required there; within the product's term range.
    pub approved_term_months: Option<i32>,
    /// `approved` only, required there: the annual rate in percent, e.g. `"3.10"`.
    #[schema(value_type = Option<String>, example = "3.10")]
    pub approved_rate: Option<Decimal>,
    /// `approved` only; defaults to today.
    pub approved_on: Option<NaiveDate>,
    /// `disbursed` only, required there; at most the approved amount (partial draws allowed).
    #[schema(value_type = Option<String>, example = "3000000.00")]
    pub disbursed_amount: Option<Decimal>,
    /// `disbursed` only; defaults to today.
    pub disbursed_on: Option<NaiveDate>,
    /// Free note for the history, any status.
    pub remark: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    #[schema(value_type = String, example = "3000000.00")]
    pub amount: Decimal,
    pub term_months: i32,
    /// Annual percent.
    #[schema(value_type = String, example = "3.10")]
    pub rate_percent: Decimal,
    pub approved_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Disbursal {
    #[schema(value_type = String, example = "3000000.00")]
    pub amount: Decimal,
    pub disbursed_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Decline {
    pub reason_code: DeclineReason,
    pub reason_text: Option<String>,
}

/// A validated move, with its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    UnderReview,
    Approved(Approval),
    Disbursed(Disbursal),
    Declined(Decline),
    Withdrawn,
}

impl StatusChange {
    pub fn status(&self) -> ApplicationStatus {
        match self {
            StatusChange::UnderReview => S::UnderReview,
            StatusChange::Approved(_) => S::Approved,
            StatusChange::Disbursed(_) => S::Disbursed,
            StatusChange::Declined(_) => S::Declined,
            StatusChange::Withdrawn => S::Withdrawn,
        }
    }
}

/// What the service knows about the application being moved.
#[derive(Debug, Clone, Copy)]
pub struct ApplicationContext<'a> {
    pub status: ApplicationStatus,
    pub submitted_on: NaiveDate,
    /// The product as it stands now: approvals must fit its current ranges.
    pub product: &'a LoanProduct,
    /// The recorded approval, once approved.
    pub approval: Option<&'a Approval>,
    pub today: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusChangeError {
    #[error(transparent)]
    Illegal(IllegalTransition),
    #[error("invalid status change")]
    Invalid(Vec<FieldError>),
}

impl StatusChangeDraft {
    /// Checks the move for `actor` first (an illegal move is reported alone), then every field
    /// of the payload at once. The remark is returned separately by [`StatusChangeDraft::remark`].
    pub fn validate(&self, ctx: &ApplicationContext<'_>, actor: Actor) -> Result<StatusChange, StatusChangeError> {
        let Some(to) = self.status else {
            return Err(StatusChangeError::Invalid(vec![FieldError::new("status", "required", "is required")]));
        };
        check_transition(ctx.status, to, actor).map_err(StatusChangeError::Illegal)?;

        let mut e = Errors::default();
        let mut only_for = |present: bool, field: &str, status: ApplicationStatus| {
            if present && to != status {
                e.add(field, "not_allowed", format!("only applies when status is {status}"));
            }
        };
        only_for(self.reason_code.is_some(), "reason_code", S::Declined);
        only_for(self.reason_text.is_some(), "reason_text", S::Declined);
        only_for(self.approved_amount.is_some(), "approved_amount", S::Approved);
        only_for(self.approved_term_months.is_some(), "approved_term_months", S::Approved);
        only_for(self.approved_rate.is_some(), "approved_rate", S::Approved);
        only_for(self.approved_on.is_some(), "approved_on", S::Approved);
        only_for(self.disbursed_amount.is_some(), "disbursed_amount", S::Disbursed);
        only_for(self.disbursed_on.is_some(), "disbursed_on", S::Disbursed);
        if let Some(r) = self.remark.as_deref() {
            e.text("remark", Some(r), MAX_TEXT_CHARS);
        }

        let change = match to {
            S::Submitted => None,
            S::UnderReview => Some(StatusChange::UnderReview),
            S::Withdrawn => Some(StatusChange::Withdrawn),
            S::Declined => self.decline(&mut e).map(StatusChange::Declined),
            S::Approved => self.approval(&mut e, ctx).map(StatusChange::Approved),
            S::Disbursed => self.disbursal(&mut e, ctx).map(StatusChange::Disbursed),
        };
        match change {
            Some(c) if e.is_empty() => Ok(c),
            _ => Err(StatusChangeError::Invalid(e.list)),
        }
    }

    /// The trimmed remark for the history entry, if any.
    pub fn remark(&self) -> Option<String> {
        self.remark.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned)
    }

    fn decline(&self, e: &mut Errors) -> Option<Decline> {
        let reason_code = e.required("reason_code", self.reason_code);
        let reason_text = match self.reason_text.as_deref() {
            None if reason_code == Some(DeclineReason::Other) => {
                e.add("reason_text", "required", "is required when reason_code is other");
                None
            }
            None => None,
            t => e.text("reason_text", t, MAX_TEXT_CHARS),
        };
        Some(Decline { reason_code: reason_code?, reason_text })
    }

    fn approval(&self, e: &mut Errors, ctx: &ApplicationContext<'_>) -> Option<Approval> {
        let amount = match self.approved_amount {
            None => {
                e.add("approved_amount", "required", "is required");
                None
            }
            Some(a) => positive_money(e, "approved_amount", a),
        };
        check_amount(e, "approved_amount", amount, ctx.product);
        let term = e.required("approved_term_months", self.approved_term_months);
        check_term(e, "approved_term_months", term, ctx.product);
        let rate = match self.approved_rate {
            None => {
                e.add("approved_rate", "required", "is required");
                None
            }
            Some(r) => rate_percent(e, "approved_rate", r),
        };
        let on = self.approved_on.unwrap_or(ctx.today);
        check_date(e, "approved_on", on, ctx.submitted_on, "the submission date", ctx.today);
        Some(Approval { amount: amount?, term_months: term?, rate_percent: rate?, approved_on: on })
    }

    fn disbursal(&self, e: &mut Errors, ctx: &ApplicationContext<'_>) -> Option<Disbursal> {
        let amount = match self.disbursed_amount {
            None => {
                e.add("disbursed_amount", "required", "is required");
                None
            }
            Some(a) => positive_money(e, "disbursed_amount", a),
        };
        let on = self.disbursed_on.unwrap_or(ctx.today);
        match ctx.approval {
            None => e.add("status", "conflict", "no approval is recorded for this application"),
            Some(approval) => {
                if let Some(a) = amount
                    && a > approval.amount
                {
                    e.add(
                        "disbursed_amount",
                        "out_of_range",
                        format!("must not exceed the approved amount {}", approval.amount),
                    );
                }
                check_date(e, "disbursed_on", on, approval.approved_on, "the approval date", ctx.today);
            }
        }
        Some(Disbursal { amount: amount?, disbursed_on: on })
    }
}

fn check_date(
    e: &mut Errors,
    field: &str,
    date: NaiveDate,
    earliest: NaiveDate,
    earliest_name: &str,
    today: NaiveDate,
) {
    if date < earliest {
        e.add(field, "out_of_range", format!("must not be before {earliest_name} ({earliest})"));
    } else if date > today {
        e.add(field, "out_of_range", format!("must not be in the future (today is {today})"));
    }
}

#[cfg(test)]
mod tests;
