//! One type per kind of id, so that a firm's id cannot be passed where a bank's is wanted. Each is
//! a UUID on the wire and in the database (serialised, displayed and parsed exactly as one), and
//! converts to and from a bare [`Uuid`] only by name (`from_uuid`, `uuid`): no `From` conversion
//! lets one kind slip into another unnoticed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What every id is underneath: a UUID (a page cursor names the last id seen by it).
pub trait Id: Copy {
    fn uuid(self) -> Uuid;
}

impl Id for Uuid {
    fn uuid(self) -> Uuid {
        self
    }
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id (time-ordered, so that newer rows sort after older ones).
            #[allow(clippy::new_without_default, reason = "a default id that is a fresh one would read as a fixed value")]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Id for $name {
            fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, uuid::Error> {
                Uuid::from_str(s).map(Self)
            }
        }
    )*};
}

ids! {
    /// A firm (企业).
    FirmId;
    /// A partner bank (合作银行).
    BankId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_as_a_uuid() {
        let uuid = Uuid::now_v7();
        let id = FirmId::from_uuid(uuid);
        assert_eq!(id.to_string(), uuid.to_string());
        assert_eq!(uuid.to_string().parse::<FirmId>(), Ok(id));
        assert_eq!(serde_json::to_string(&id).expect("serialises"), serde_json::to_string(&uuid).expect("serialises"));
        assert_eq!(serde_json::from_str::<FirmId>(&format!("\"{uuid}\"")).expect("parses"), id);
        assert!("not-a-uuid".parse::<FirmId>().is_err());
        assert_eq!(id.uuid(), uuid);
    }
}
