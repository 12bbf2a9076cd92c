//! Who may do what. A principal is an API key's role plus, for bank, fund and enterprise keys,
//! the id of the bank, fund or firm it acts for.

use uuid::Uuid;

use crate::domain::ids::{BankId, FirmId};

use crate::domain::firm::vocabulary;

vocabulary!(
    Role {
        Admin = "admin" / "省中小企业局(运营方)",
        Bank = "bank" / "合作银行",
        Fund = "fund" / "基金管理人",
        Enterprise = "enterprise" / "企业",
    }
);

/// Whom a key acts for: the office, or one bank, fund or firm. A bank, fund or enterprise key
/// without its subject cannot be written down, so no use site has to check for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActsFor {
    Admin,
    Bank(BankId),
    Fund(Uuid),
    Enterprise(FirmId),
}

/// An authenticated caller: the key (or mailed sign-in link) and whom it acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub key_id: Uuid,
    pub acts_for: ActsFor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl Principal {
    /// `None` when the role and subject do not fit together (an admin with a subject, or another
    /// role without one): such a stored credential grants nothing.
    pub fn new(key_id: Uuid, role: Role, subject: Option<Uuid>) -> Option<Self> {
        let acts_for = match (role, subject) {
            (Role::Admin, None) => ActsFor::Admin,
            (Role::Bank, Some(id)) => ActsFor::Bank(BankId::from_uuid(id)),
            (Role::Fund, Some(id)) => ActsFor::Fund(id),
            (Role::Enterprise, Some(id)) => ActsFor::Enterprise(FirmId::from_uuid(id)),
            _ => return None,
        };
        Some(Self { key_id, acts_for })
    }

    pub fn role(&self) -> Role {
        match self.acts_for {
            ActsFor::Admin => Role::Admin,
            ActsFor::Bank(_) => Role::Bank,
            ActsFor::Fund(_) => Role::Fund,
            ActsFor::Enterprise(_) => Role::Enterprise,
        }
    }

    /// The bank, fund or firm the key acts for; `None` for the office.
    pub fn subject(&self) -> Option<Uuid> {
        match self.acts_for {
            ActsFor::Admin => None,
            ActsFor::Bank(id) => Some(id.uuid()),
            ActsFor::Fund(id) => Some(id),
            ActsFor::Enterprise(id) => Some(id.uuid()),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.acts_for == ActsFor::Admin
    }

    pub fn require_admin(&self) -> Result<(), Denied> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Denied(format!("this needs an admin key; this key's role is {}", self.role())))
        }
    }

    /// Admin, or the enterprise key of this very firm.
    pub fn require_firm(&self, firm_id: FirmId) -> Result<(), Denied> {
        match self.acts_for {
            ActsFor::Admin => Ok(()),
            ActsFor::Enterprise(own) if own == firm_id => Ok(()),
            ActsFor::Enterprise(_) => Err(Denied("an enterprise key acts only for its own firm".into())),
            _ => Err(Denied(format!("a {} key cannot act on firm records here", self.role()))),
        }
    }

    /// The fund an act is for: a fund key acts for its own fund (naming it is fine, naming
    /// another is denied like any foreign subject); the office for the fund it names, if any.
    pub fn acting_fund(&self, named: Option<Uuid>) -> Result<Option<Uuid>, Denied> {
        match (self.acts_for, named) {
            (ActsFor::Fund(own), Some(other)) if other != own => {
                Err(Denied("a fund key acts only for its own fund".into()))
            }
            (ActsFor::Fund(own), _) => Ok(Some(own)),
            (ActsFor::Admin, named) => Ok(named),
            _ => Err(Denied(format!("a {} key cannot act for a fund", self.role()))),
        }
    }

    pub fn bank_id(&self) -> Option<BankId> {
        if let ActsFor::Bank(id) = self.acts_for { Some(id) } else { None }
    }

    pub fn fund_id(&self) -> Option<Uuid> {
        if let ActsFor::Fund(id) = self.acts_for { Some(id) } else { None }
    }

    pub fn firm_id(&self) -> Option<FirmId> {
        if let ActsFor::Enterprise(id) = self.acts_for { Some(id) } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firm_access_by_role_and_subject() {
        let a = FirmId::new();
        let b = FirmId::new();
        let p = |role, subject| Principal::new(Uuid::now_v7(), role, subject).expect("consistent");
        assert!(p(Role::Admin, None).require_firm(a).is_ok());
        assert!(p(Role::Enterprise, Some(a.uuid())).require_firm(a).is_ok());
        assert!(p(Role::Enterprise, Some(a.uuid())).require_firm(b).is_err());
        assert!(p(Role::Bank, Some(a.uuid())).require_firm(a).is_err());
        assert!(p(Role::Fund, Some(a.uuid())).require_firm(a).is_err());
        assert!(p(Role::Bank, Some(a.uuid())).require_admin().is_err());
    }

    #[test]
    fn a_role_without_its_subject_grants_nothing() {
        let id = Uuid::now_v7();
        assert_eq!(Principal::new(id, Role::Admin, Some(id)), None);
        for role in [Role::Bank, Role::Fund, Role::Enterprise] {
            assert_eq!(Principal::new(id, role, None), None, "{role}");
            let p = Principal::new(id, role, Some(id)).expect("consistent");
            assert_eq!((p.role(), p.subject()), (role, Some(id)));
        }
    }
}
