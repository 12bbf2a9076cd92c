//! The rules a product may set, and sets of them as a stable bitmask.

use crate::domain::firm::vocabulary;

vocabulary!(
    /// A rule of a product's eligibility, plus two product-side conditions (`product_active`,
    /// `product_validity`) that only ever appear as unmet. The declaration order is the bit
    /// position in [`RuleSet`] and the order of rules in an outcome: append, never reorder.
    RuleKind {
        Tiers = "tiers" / "企业梯度层级",
        MinYearsInOperation = "min_years_in_operation" / "成立年限",
        MinRevenue = "min_revenue" / "营业收入",
        MinRdRatio = "min_rd_ratio" / "研发投入占比",
        MinInventionPatents = "min_invention_patents" / "发明专利数量",
        TaxCreditGrades = "tax_credit_grades" / "纳税信用等级",
        Cities = "cities" / "所在城市",
        IndustryPrefixes = "industry_prefixes" / "所属行业",
        ReservePoolOnly = "reserve_pool_only" / "上市后备资源库",
        LeadBankOnly = "lead_bank_only" / "主办行",
        TargetVenues = "target_venues" / "拟上市板块",
        ProductActive = "product_active" / "产品在售",
        ProductValidity = "product_validity" / "产品有效期",
    }
);

impl RuleKind {
    pub(super) const fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Conditions about the product rather than the firm: failing them is no near miss and
    /// nothing the firm can fix.
    pub fn is_product_side(self) -> bool {
        matches!(self, RuleKind::ProductActive | RuleKind::ProductValidity)
    }
}

/// A set of rules as a bitmask. [`RuleSet::bits`] is stable (declaration order of [`RuleKind`])
/// and may be stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(pub(super) u16);

const ALL_RULES: u16 = (1 << RuleKind::ALL.len()) - 1;
pub(super) const PRODUCT_SIDE: u16 = RuleKind::ProductActive.bit() | RuleKind::ProductValidity.bit();

impl RuleSet {
    pub const EMPTY: RuleSet = RuleSet(0);

    pub fn contains(self, rule: RuleKind) -> bool {
        self.0 & rule.bit() != 0
    }

    pub fn insert(&mut self, rule: RuleKind) {
        self.0 |= rule.bit();
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn bits(self) -> u16 {
        self.0
    }

    /// Unknown bits (from a newer build) are dropped.
    pub fn from_bits(bits: u16) -> RuleSet {
        RuleSet(bits & ALL_RULES)
    }

    /// Only the firm-side rules.
    pub fn firm_side(self) -> RuleSet {
        RuleSet(self.0 & !PRODUCT_SIDE)
    }

    pub fn iter(self) -> impl Iterator<Item = RuleKind> {
        RuleKind::ALL.iter().copied().filter(move |r| self.contains(*r))
    }
}
