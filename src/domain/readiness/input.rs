//! What the evaluators know about a firm: registry data plus the facts the registry keeps beside it
//! (tier-scoring inputs, attestations of qualitative conditions, equity financings, dated share
//! capital and market-value estimates). Absent optional data makes the criteria that need it
//! `unknown`, never `not_met`.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::UnknownValue;
use crate::domain::firm::{FinancialYear, Firm, NeeqLayer, Tier, Venue, vocabulary};
use crate::domain::firm_inputs::{
    AttestationSource, FirmRecords, InvestorKind, TierInputs, attestation_in_force, estimate_on, share_capital_on,
};
use crate::domain::investment::InvestmentRound;
use crate::domain::listing_stage::{ListingStage, Progress};

/// One equity financing round (新增股权融资), counted by date in trailing windows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EquityFinancing {
    pub paid_in_on: NaiveDate,
    #[schema(value_type = String, example = "20000000.00")]
    pub amount: Decimal,
    /// Paid in by qualified institutional investors (合格机构投资者), as the MIIT scheme requires.
    #[serde(default)]
    pub by_qualified_institution: bool,
    /// Post-money valuation at the round's price, where known.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub post_money_valuation: Option<Decimal>,
    #[serde(default)]
    pub round: Option<InvestmentRound>,
    #[serde(default)]
    pub investor_kind: Option<InvestorKind>,
}

/// An attestation as the evaluator reads it: whether the condition holds, and who said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attested {
    pub holds: bool,
    pub source: AttestationSource,
    pub stated_on: Option<NaiveDate>,
    pub document_ref: Option<String>,
}

impl From<bool> for Attested {
    /// An undated statement of the office (tests and hand-built inputs).
    fn from(holds: bool) -> Self {
        Attested { holds, source: AttestationSource::Office, stated_on: None, document_ref: None }
    }
}

vocabulary!(
    /// Where "the latest fiscal year" (最近一年) comes from.
    LatestYearBasis {
        Audited = "audited" / "最近一个已审计会计年度",
        Given = "given" / "指定的会计年度",
        Assumed = "assumed" / "评价日上一日历年度（无审计信息）",
    }
);

/// Input to the readiness evaluator and the SME tier check.
///
/// "Latest fiscal year" is the latest year whose audit report is dated on or before
/// `evaluation_date` when the financials say which years are audited; otherwise the calendar
/// year before `evaluation_date` (Chinese fiscal years are calendar years). A `latest_fiscal_year`
/// given explicitly wins when it is earlier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReadinessInput {
    pub evaluation_date: NaiveDate,
    #[serde(default)]
    pub latest_fiscal_year: Option<i32>,
    /// Any order; if a fiscal year appears twice the later entry wins.
    #[serde(default)]
    pub financials: Vec<FinancialYear>,
    /// The estimate valid on the evaluation date.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub expected_market_value: Option<Decimal>,
    /// The date that estimate was made, shown beside every criterion that uses it.
    #[serde(default)]
    pub expected_market_value_on: Option<NaiveDate>,
    #[serde(default)]
    pub neeq_listed_on: Option<NaiveDate>,
    #[serde(default)]
    pub neeq_layer: Option<NeeqLayer>,
    /// Date the firm entered the NEEQ innovation layer, when known.
    #[serde(default)]
    pub neeq_innovation_layer_since: Option<NaiveDate>,
    /// Current count; when absent the latest fiscal year's figure is used.
    #[serde(default)]
    pub invention_patents: Option<i64>,
    /// Current R&D staff share in percent; when absent, rd_staff ÷ employees of the latest year.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub rd_staff_share: Option<Decimal>,
    /// GB/T 4754 code, e.g. `C3562`.
    #[serde(default)]
    pub industry_code: Option<String>,
    #[serde(default)]
    pub tier: Option<Tier>,
    #[serde(default)]
    pub in_reserve_pool: bool,
    #[serde(default)]
    pub founded_on: Option<NaiveDate>,
    /// Share capital in yuan (股本总额) on the evaluation date.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub share_capital: Option<Decimal>,
    /// Share capital at the end of the latest fiscal year, for per-share figures (最近一期末).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub share_capital_at_year_end: Option<Decimal>,
    /// `None`: not known (criteria on financing are unknown); `Some([])`: known to be none.
    #[serde(default)]
    pub equity_financings: Option<Vec<EquityFinancing>>,
    /// The rounds are a lower bound: the record is not known to be complete up to the
    /// evaluation date, so a financing test they fail is unknown rather than not met.
    #[serde(default)]
    pub equity_financings_partial: bool,
    /// Qualitative conditions asserted or denied, by the key the rule data names (e.g.
    /// `star5_major_business_approved`). Missing keys are unknown.
    #[serde(default)]
    pub attestations: BTreeMap<String, Attested>,
    /// Inputs only the SME tier scoring needs.
    #[serde(default)]
    pub sme: SmeExtras,
}

impl ReadinessInput {
    /// The registry's view of a firm. Everything not in the registry stays unknown.
    pub fn from_firm(firm: &Firm, financials: Vec<FinancialYear>, evaluation_date: NaiveDate) -> Self {
        ReadinessInput {
            evaluation_date,
            financials,
            expected_market_value: firm.expected_market_value,
            neeq_listed_on: firm.neeq_listed_on,
            neeq_layer: firm.neeq_layer,
            industry_code: Some(firm.industry_code.clone()),
            tier: firm.tier,
            in_reserve_pool: firm.in_reserve_pool,
            founded_on: firm.founded_on,
            ..ReadinessInput::default()
        }
    }

    /// The registry's view plus the firm's other records, each taken as it stood on
    /// `evaluation_date`: the share capital and market-value estimate valid then (never a later
    /// estimate), the rounds paid in by then, the attestations in force then, and the tier
    /// inputs of the latest fiscal year.
    pub fn from_records(
        firm: &Firm,
        financials: Vec<FinancialYear>,
        records: &FirmRecords,
        evaluation_date: NaiveDate,
    ) -> Self {
        let mut input = ReadinessInput::from_firm(firm, financials, evaluation_date);
        let estimate = estimate_on(&records.market_value_estimates, evaluation_date);
        input.expected_market_value = estimate.map(|e| e.amount);
        input.expected_market_value_on = estimate.map(|e| e.estimated_on);
        input.share_capital = share_capital_on(&records.share_capital, evaluation_date).map(|e| e.amount);
        let latest = input.latest_fiscal_year();
        input.share_capital_at_year_end = NaiveDate::from_ymd_opt(latest, 12, 31)
            .and_then(|end| share_capital_on(&records.share_capital, end))
            .map(|e| e.amount);
        if let Some(record) = &records.equity_financings {
            input.equity_financings = Some(
                record
                    .rounds
                    .iter()
                    .filter(|r| r.paid_in_on <= evaluation_date)
                    .map(|r| EquityFinancing {
                        paid_in_on: r.paid_in_on,
                        amount: r.amount,
                        by_qualified_institution: r.by_qualified_institution,
                        post_money_valuation: r.post_money_valuation,
                        round: r.round,
                        investor_kind: r.investor_kind,
                    })
                    .collect(),
            );
            input.equity_financings_partial = record.complete_through.is_none_or(|c| c < evaluation_date);
        }
        let mut keys: Vec<&str> = records.attestations.iter().map(|s| s.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            if let Some(s) = attestation_in_force(&records.attestations, key, evaluation_date) {
                input.attestations.insert(
                    key.to_owned(),
                    Attested {
                        holds: s.holds,
                        source: s.source,
                        stated_on: Some(s.stated_on),
                        document_ref: s.document_ref.clone(),
                    },
                );
            }
        }
        if let Some(t) = records.tier_inputs.iter().find(|t| t.fiscal_year == latest) {
            input.sme = SmeExtras::from(t);
        }
        input
    }

    /// The fiscal year the rules call "latest" (最近一年) on the evaluation date.
    pub fn latest_fiscal_year(&self) -> i32 {
        self.latest_fiscal_year_and_basis().0
    }

    /// The latest fiscal year and where it comes from (see the type's documentation).
    pub fn latest_fiscal_year_and_basis(&self) -> (i32, LatestYearBasis) {
        let default = self.evaluation_date.year() - 1;
        if let Some(y) = self.latest_fiscal_year
            && y < default
        {
            return (y, LatestYearBasis::Given);
        }
        if self.financials.iter().any(|f| f.audited_on.is_some()) {
            let audited = self
                .financials
                .iter()
                .filter(|f| f.fiscal_year <= default && f.audited_on.is_some_and(|on| on <= self.evaluation_date))
                .map(|f| f.fiscal_year)
                .max();
            if let Some(y) = audited {
                return (y, LatestYearBasis::Audited);
            }
        }
        (default, LatestYearBasis::Assumed)
    }
}

/// Shandong 特色化 item 12 from the registry's own listing record on a date: listed on an
/// exchange or quoted on NEEQ; on the regional 专精特新专板 or with an application filed; or
/// nothing recorded. `progress` is every venue's state as of that date.
pub fn listing_progress_of(progress: &[Progress], neeq_listed_on: Option<NaiveDate>, on: NaiveDate) -> ListingProgress {
    let stage = |v: Venue| progress.iter().find(|p| p.venue == v).and_then(|p| p.current);
    let exchanges = [Venue::Bse, Venue::Star, Venue::Chinext];
    let listed = exchanges.iter().any(|v| stage(*v) == Some(ListingStage::Listed))
        || matches!(stage(Venue::Neeq), Some(ListingStage::NeeqListed | ListingStage::NeeqInnovationLayer))
        || neeq_listed_on.is_some_and(|d| d <= on);
    if listed {
        return ListingProgress::ListedOrNeeq;
    }
    let applied = exchanges.iter().any(|v| {
        matches!(
            stage(*v),
            Some(
                ListingStage::ApplicationAccepted
                    | ListingStage::Inquiry
                    | ListingStage::CommitteeApproved
                    | ListingStage::Registered
            )
        )
    }) || matches!(stage(Venue::Neeq), Some(ListingStage::NeeqApplied | ListingStage::NeeqAccepted))
        || stage(Venue::RegionalSrdiBoard) == Some(ListingStage::RegionalListed);
    if applied { ListingProgress::RegionalOrApplied } else { ListingProgress::NoProgress }
}

vocabulary!(
    /// Best valid IP related to the main product (MIIT 2022 scoring).
    IpClass {
        HighValueClassI = "high_value_class_i" / "高价值Ⅰ类知识产权",
        SelfDevelopedClassI = "self_developed_class_i" / "自主研发Ⅰ类知识产权",
        ClassI = "class_i" / "Ⅰ类知识产权",
        ClassIi = "class_ii" / "Ⅱ类知识产权",
        NoIp = "no_ip" / "无",
    }
);

vocabulary!(
    /// Level of the firm's own R&D institution.
    RdInstitutionLevel {
        National = "national" / "国家级",
        Provincial = "provincial" / "省级",
        Municipal = "municipal" / "市级",
        BelowMunicipal = "below_municipal" / "市级以下",
        NoInstitution = "no_institution" / "未建立",
    }
);

vocabulary!(
    /// Role of the main product in its industrial chain (专精特新 scoring, 专业化 item 4).
    ProductChainRole {
        FillsChainGap = "fills_chain_gap" / "解决产业链短板/长板/填补空白",
        BasicOrKeySupplier = "basic_or_key_supplier" / "工业六基、中华老字号或为产业链龙头配套",
        Other = "other" / "其他",
    }
);

vocabulary!(
    /// Shandong 特色化 item 9: which key-industry plans the firm's field belongs to.
    ProvincialKeyIndustry {
        ProvincialPlanAndChain = "provincial_plan_and_chain" / "省重点规划且属链长制重点产业链",
        ProvincialPlan = "provincial_plan" / "省重点规划或海洋强省/乡村振兴/军民融合",
        CityKey = "city_key" / "市级重点产业",
        CountyKey = "county_key" / "县级重点产业",
        NotKey = "not_key" / "不属于",
    }
);

vocabulary!(
    /// Shandong 特色化 item 11: niche market position of the main product.
    NicheShareRank {
        NationalTop3 = "national_top3" / "全国占有率>10%或全国前三",
        NationalTop10OrProvincialTop3 = "national_top10_or_provincial_top3" / "全国前十或全省前三",
        ProvincialTop10 = "provincial_top10" / "全省前十",
        Below = "below" / "其他",
    }
);

vocabulary!(
    /// Shandong 特色化 item 12: listing progress.
    ListingProgress {
        ListedOrNeeq = "listed_or_neeq" / "已上市或新三板挂牌",
        RegionalOrApplied = "regional_or_applied" / "区域性股权市场挂牌或已提交上市申请",
        NoProgress = "no_progress" / "无",
    }
);

vocabulary!(
    /// A categorical input a scoring indicator or a `choice` criterion reads.
    ChoiceInput {
        IpBestClass = "ip_best_class" / "主导产品相关有效知识产权",
        RdInstitutionLevel = "rd_institution_level" / "自建研发机构级别",
        ProductChainRole = "product_chain_role" / "主导产品所属领域",
        StrategicEmergingIndustry = "strategic_emerging_industry" / "属于战略性新兴产业",
        ProvincialKeyIndustry = "provincial_key_industry" / "属于省重点产业",
        NicheShareRank = "niche_share_rank" / "细分市场占有率排名",
        ListingProgress = "listing_progress" / "上市进展",
    }
);

const YES_NO: &[&str] = &["yes", "no"];

impl ChoiceInput {
    /// The values this input can take (its vocabulary's wire names).
    pub fn allowed(self) -> &'static [&'static str] {
        // The vocabulary's parse error carries its static list of wire names.
        fn wire_names<T: std::str::FromStr<Err = UnknownValue>>() -> &'static [&'static str] {
            match "".parse::<T>() {
                Err(e) => e.allowed,
                Ok(_) => &[],
            }
        }
        match self {
            ChoiceInput::IpBestClass => wire_names::<IpClass>(),
            ChoiceInput::RdInstitutionLevel => wire_names::<RdInstitutionLevel>(),
            ChoiceInput::ProductChainRole => wire_names::<ProductChainRole>(),
            ChoiceInput::StrategicEmergingIndustry => YES_NO,
            ChoiceInput::ProvincialKeyIndustry => wire_names::<ProvincialKeyIndustry>(),
            ChoiceInput::NicheShareRank => wire_names::<NicheShareRank>(),
            ChoiceInput::ListingProgress => wire_names::<ListingProgress>(),
        }
    }
}

/// Optional inputs of the MIIT tier scoring that the registry does not hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SmeExtras {
    pub ip_best_class: Option<IpClass>,
    /// Class-I IPs related to the main product, in use and earning (小巨人 needs ≥ 2).
    pub class_i_ip_in_use: Option<i64>,
    pub strategic_emerging_industry: Option<bool>,
    #[schema(value_type = Option<String>)]
    pub niche_market_years: Option<Decimal>,
    pub product_chain_role: Option<ProductChainRole>,
    pub digitalisation_level: Option<i64>,
    /// How many of: provincial quality award, ISO9001-type certification, own brand,
    /// standard-setting participation.
    pub quality_items: Option<i64>,
    pub rd_institution_level: Option<RdInstitutionLevel>,
    /// Main product's national niche market share, percent.
    #[schema(value_type = Option<String>)]
    pub national_niche_market_share: Option<Decimal>,
    pub provincial_key_industry: Option<ProvincialKeyIndustry>,
    /// How many of the six Shandong "innovative production & operation" items (特色化 item 10).
    pub innovative_operation_items: Option<i64>,
    pub niche_share_rank: Option<NicheShareRank>,
    pub listing_progress: Option<ListingProgress>,
}

impl From<&TierInputs> for SmeExtras {
    fn from(t: &TierInputs) -> Self {
        SmeExtras {
            ip_best_class: t.ip_best_class,
            class_i_ip_in_use: t.class_i_ip_in_use,
            strategic_emerging_industry: t.strategic_emerging_industry,
            niche_market_years: t.niche_market_years,
            product_chain_role: t.product_chain_role,
            digitalisation_level: t.digitalisation_level,
            quality_items: t.quality_items,
            rd_institution_level: t.rd_institution_level,
            national_niche_market_share: t.national_niche_market_share,
            provincial_key_industry: t.provincial_key_industry,
            innovative_operation_items: t.innovative_operation_items,
            niche_share_rank: t.niche_share_rank,
            listing_progress: None,
        }
    }
}

impl SmeExtras {
    pub(crate) fn choice(&self, input: ChoiceInput) -> Option<&'static str> {
        match input {
            ChoiceInput::IpBestClass => self.ip_best_class.map(IpClass::as_str),
            ChoiceInput::RdInstitutionLevel => self.rd_institution_level.map(RdInstitutionLevel::as_str),
            ChoiceInput::ProductChainRole => self.product_chain_role.map(ProductChainRole::as_str),
            ChoiceInput::StrategicEmergingIndustry => {
                self.strategic_emerging_industry.map(|b| if b { "yes" } else { "no" })
            }
            ChoiceInput::ProvincialKeyIndustry => self.provincial_key_industry.map(ProvincialKeyIndustry::as_str),
            ChoiceInput::NicheShareRank => self.niche_share_rank.map(NicheShareRank::as_str),
            ChoiceInput::ListingProgress => self.listing_progress.map(ListingProgress::as_str),
        }
    }
}
