//! A firm's yearly financials: the stored [`FinancialYear`] and [`FinancialsInput`], one year as it
//! arrives, with its validation.

use chrono::Datelike as _;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One fiscal year of a firm's financials. Money in yuan; every figure may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FinancialYear {
    pub fiscal_year: i32,
    #[schema(value_type = Option<String>, example = "125000000.00")]
    pub revenue: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub main_business_revenue: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub net_profit: Option<Decimal>,
    /// Net profit after deducting non-recurring items (扣除非经常性损益后).
    #[schema(value_type = Option<String>)]
    pub net_profit_deducted: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub rd_expense: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub operating_cash_flow: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub total_assets: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub total_liabilities: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub net_assets: Option<Decimal>,
    /// Weighted average return on equity, in percent (e.g. "8.25").
    #[schema(value_type = Option<String>, example = "8.25")]
    pub weighted_roe: Option<Decimal>,
    /// Weighted average ROE after deducting non-recurring items (扣除非经常性损益后), in percent.
    #[schema(value_type = Option<String>, example = "7.90")]
    pub weighted_roe_deducted: Option<Decimal>,
    pub invention_patents: Option<i64>,
    pub employees: Option<i64>,
    pub rd_staff: Option<i64>,
    /// Date of the audit report on this year (审计报告日); absent while the year is unaudited.
    /// Readiness takes the latest year audited by the evaluation date as "the latest year".
    pub audited_on: Option<NaiveDate>,
}

/// One fiscal year of financials as it arrives; money as decimal strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancialsInput {
    #[schema(example = "125000000.00")]
    pub revenue: Option<String>,
    pub main_business_revenue: Option<String>,
    pub net_profit: Option<String>,
    pub net_profit_deducted: Option<String>,
    pub rd_expense: Option<String>,
    pub operating_cash_flow: Option<String>,
    pub total_assets: Option<String>,
    pub total_liabilities: Option<String>,
    pub net_assets: Option<String>,
    #[schema(example = "8.25")]
    pub weighted_roe: Option<String>,
    #[schema(example = "7.90")]
    pub weighted_roe_deducted: Option<String>,
    pub invention_patents: Option<i64>,
    pub employees: Option<i64>,
    pub rd_staff: Option<i64>,
    /// Date of the audit report (after the fiscal year's end, not in the future).
    #[schema(example = "2025-04-20")]
    pub audited_on: Option<String>,
}

impl FinancialsInput {
    pub fn is_empty(&self) -> bool {
        self.revenue.is_none()
            && self.main_business_revenue.is_none()
            && self.net_profit.is_none()
            && self.net_profit_deducted.is_none()
            && self.rd_expense.is_none()
            && self.operating_cash_flow.is_none()
            && self.total_assets.is_none()
            && self.total_liabilities.is_none()
            && self.net_assets.is_none()
            && self.weighted_roe.is_none()
            && self.weighted_roe_deducted.is_none()
            && self.invention_patents.is_none()
            && self.employees.is_none()
            && self.rd_staff.is_none()
            && self.audited_on.is_none()
    }

    /// `prefix` names the field path (e.g. `financials.2024`); `today` bounds the fiscal year.
    pub fn validate(
        &self,
        fiscal_year: i64,
        prefix: &str,
        today: NaiveDate,
    ) -> Result<FinancialYear, Vec<crate::domain::validate::FieldError>> {
        use crate::domain::validate::Errors;
        let mut e = Errors::with_prefix(prefix);
        let year = e.int_range("fiscal_year", Some(fiscal_year), 1990, i64::from(today.year()));
        let money = |e: &mut Errors, f: &str, v: &Option<String>, neg: bool| {
            v.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| e.money(f, Some(s), neg))
        };
        let percent = |e: &mut Errors, f: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| e.decimal(f, Some(s), Decimal::from(-1000), Decimal::from(1000), 4))
        };
        let fy = FinancialYear {
            fiscal_year: year.unwrap_or_default() as i32,
            revenue: money(&mut e, "revenue", &self.revenue, false),
            main_business_revenue: money(&mut e, "main_business_revenue", &self.main_business_revenue, false),
            net_profit: money(&mut e, "net_profit", &self.net_profit, true),
            net_profit_deducted: money(&mut e, "net_profit_deducted", &self.net_profit_deducted, true),
            rd_expense: money(&mut e, "rd_expense", &self.rd_expense, false),
            operating_cash_flow: money(&mut e, "operating_cash_flow", &self.operating_cash_flow, true),
            total_assets: money(&mut e, "total_assets", &self.total_assets, false),
            total_liabilities: money(&mut e, "total_liabilities", &self.total_liabilities, false),
            net_assets: money(&mut e, "net_assets", &self.net_assets, true),
            weighted_roe: percent(&mut e, "weighted_roe", &self.weighted_roe),
            weighted_roe_deducted: percent(&mut e, "weighted_roe_deducted", &self.weighted_roe_deducted),
            invention_patents: e.int_range("invention_patents", self.invention_patents, 0, 1_000_000),
            employees: e.int_range("employees", self.employees, 0, 10_000_000),
            rd_staff: e.int_range("rd_staff", self.rd_staff, 0, 10_000_000),
            audited_on: self
                .audited_on
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| e.date("audited_on", Some(s))),
        };
        if let (Some(on), Some(y)) = (fy.audited_on, year) {
            if on.year() <= y as i32 {
                e.add("audited_on", "out_of_range", format!("must be after the end of fiscal year {y}"));
            } else if on > today {
                e.add("audited_on", "out_of_range", "must not be in the future");
            }
        }
        if let (Some(staff), Some(all)) = (fy.rd_staff, fy.employees)
            && staff > all
        {
            e.add("rd_staff", "out_of_range", "must not exceed employees");
        }
        if let (Some(main), Some(all)) = (fy.main_business_revenue, fy.revenue)
            && main > all
        {
            e.add("main_business_revenue", "out_of_range", "must not exceed revenue");
        }
        e.finish(fy)
    }
}

impl FinancialYear {
    /// R&D expense as a fraction of revenue, when both are known and revenue is positive.
    pub fn rd_ratio(&self) -> Option<Decimal> {
        match (self.rd_expense, self.revenue) {
            (Some(rd), Some(rev)) if rev > Decimal::ZERO => Some(rd / rev),
            _ => None,
        }
    }
}
