//! Who may do what. A principal is an API key's role plus, for bank, fund and enterprise keys,
//! the id of the bank, fund or firm it acts for.

use uuid::Uuid;

use crate::domain::firm::vocabulary;

vocabulary!(
    Role {
        Admin = "admin" / "省中小企业局(运营方)",
        Bank = "bank" / "合作银行",
        Fund = "fund" / "基金管理人",
        Enterprise = "enterprise" / "企业",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub key_id: Uuid,
    pub role: Role,
    /// The bank, fund or firm the key acts for; `None` for admin keys.
    pub subject: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn require_admin(&self) -> Result<(), Denied> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Denied(format!("this needs an admin key; this key's role is {}", self.role)))
        }
    }

    /// Admin, or the enterprise key of this very firm.
    pub fn require_firm(&self, firm_id: Uuid) -> Result<(), Denied> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Enterprise if self.subject == Some(firm_id) => Ok(()),
            Role::Enterprise => Err(Denied("an enterprise key acts only for its own firm".into())),
            role => Err(Denied(format!("a {role} key cannot act on firm records here"))),
        }
    }

    /// The fund an act is for: a fund key acts for its own fund (naming it is fine, naming
    /// another is denied like any foreign subject); the office for the fund it names, if any.
    pub fn acting_fund(&self, named: Option<Uuid>) -> Result<Option<Uuid>, Denied> {
        match (self.role, self.subject, named) {
            (Role::Fund, None, _) => Err(Denied("this fund key names no fund".into())),
            (Role::Fund, Some(own), Some(other)) if other != own => {
                Err(Denied("a fund key acts only for its own fund".into()))
            }
            (Role::Fund, Some(own), _) => Ok(Some(own)),
            (Role::Admin, _, named) => Ok(named),
            (role, _, _) => Err(Denied(format!("a {role} key cannot act for a fund"))),
        }
    }

    pub fn bank_id(&self) -> Option<Uuid> {
        (self.role == Role::Bank).then_some(self.subject).flatten()
    }

    pub fn fund_id(&self) -> Option<Uuid> {
        (self.role == Role::Fund).then_some(self.subject).flatten()
    }

    pub fn firm_id(&self) -> Option<Uuid> {
        (self.role == Role::Enterprise).then_some(self.subject).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firm_access_by_role_and_subject() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let p = |role, subject| Principal { key_id: Uuid::nil(), role, subject };
        assert!(p(Role::Admin, None).require_firm(a).is_ok());
        assert!(p(Role::Enterprise, Some(a)).require_firm(a).is_ok());
        assert!(p(Role::Enterprise, Some(a)).require_firm(b).is_err());
        assert!(p(Role::Bank, Some(a)).require_firm(a).is_err());
        assert!(p(Role::Fund, Some(a)).require_firm(a).is_err());
        assert!(p(Role::Bank, Some(a)).require_admin().is_err());
    }
}
