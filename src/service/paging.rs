//! Parameters of listing use cases, shared by the API and the pages: keyset pagination (`limit`,
//! capped, and an opaque `cursor`; answers are `{items, next_cursor}`) and vocabulary filters.

use std::borrow::Cow;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::domain::ids::Id;
use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// One page of a listing: every listing answers with this shape.
#[derive(Debug, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// An item type that is listed in pages. Each page has its own schema in the document, named
/// after what it lists (`FirmPage`, `PoolPage`), which a generic's derived name would not be.
pub trait PageItem: ToSchema {
    /// The name of the document's schema of a page of these items.
    const PAGE_SCHEMA: &'static str;
}

/// Declares the page of an item type for the document: `page_schema!(FirmPage = Firm)` names
/// `Page<Firm>` `FirmPage`, for the handlers' `#[utoipa::path]` (which take a generic's name apart)
/// and for the schema.
macro_rules! page_schema {
    ($page:ident = $item:ty) => {
        pub type $page = $crate::service::paging::Page<$item>;

        impl $crate::service::paging::PageItem for $item {
            const PAGE_SCHEMA: &'static str = stringify!($page);
        }
    };
}
pub(crate) use page_schema;

impl<T: PageItem> PartialSchema for Page<T> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property("items", ArrayBuilder::new().items(Ref::from_schema_name(T::name())))
            .required("items")
            .property(
                "next_cursor",
                ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])),
            )
            .into()
    }
}

impl<T: PageItem> ToSchema for Page<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(T::PAGE_SCHEMA)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

/// The page a listing asks for, as its query string gives it. A listing's handler reads its
/// filters and this together with `web::query::Paged`, and checks it with [`PageQuery::paging`]
/// once it has checked the caller.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The names of its parameters, which a listing's filters leave to it.
    pub const PARAMETERS: [&'static str; 2] = ["limit", "cursor"];

    /// The page size and where to continue, both checked: a bad `limit` is a 422 naming it, a
    /// cursor this service did not issue a 400.
    pub fn paging(&self) -> AppResult<Paging> {
        Ok(Paging { limit: limit(self.limit)?, after: self.after()? })
    }

    /// Only where to continue: the CSV answers hold every row from there, so take no `limit`.
    pub fn after(&self) -> AppResult<Option<Uuid>> {
        decode_cursor(self.cursor.as_deref())
    }
}

/// A checked page request: at most `limit` rows, after the row with id `after` (from the start
/// when `None`).
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub limit: u32,
    pub after: Option<Uuid>,
}

/// The cursor names the last id seen. It is opaque to clients so that its form may change; the
/// document states its shape ([`CURSOR_PATTERN`]) so that every cursor of that shape is one this
/// service could have issued: any 16 bytes are an id to continue after.
pub fn encode_cursor(last_id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last_id.as_bytes())
}

/// The shape of a page cursor: 16 bytes in unpadded base64url (the last character carries two
/// bits, so it is one of four). Empty means the first page.
pub const CURSOR_PATTERN: &str = "^([A-Za-z0-9_-]{21}[AQgw])?$";

pub fn decode_cursor(cursor: Option<&str>) -> AppResult<Option<Uuid>> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else { return Ok(None) };
    let bad =
        || AppError::bad_request("invalid_cursor", "the cursor is not one this service issued; start again without it");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    Uuid::from_slice(&bytes).map(Some).map_err(|_| bad())
}

/// The page size: 1 to [`MAX_LIMIT`] as the document states; anything else is refused rather
/// than quietly changed.
pub fn limit(requested: Option<u32>) -> AppResult<u32> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(AppError::field("limit", "out_of_range", format!("must be between 1 and {MAX_LIMIT}"))),
    }
}

/// Fetches `limit + 1` rows to learn whether another page exists, without a count query.
pub fn page<T, I: Id>(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> I) -> Page<T> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| encode_cursor(id_of(r).uuid())) } else { None };
    Page { items: rows, next_cursor }
}

/// A query parameter given blank (`city=`) is read as not given, as an HTML form sends it. Only
/// the empty string is blank: a value of spaces is read as it is (and refused where it is not
/// valid), so that the service and its document, which allows the empty string and nothing else,
/// agree on what blank means.
pub fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// Parses an optional vocabulary query parameter, naming it when the value is unknown.
pub fn query_vocab<T>(name: &str, value: Option<&str>) -> AppResult<Option<T>>
where
    T: std::str::FromStr<Err = crate::domain::UnknownValue>,
{
    match given(value) {
        None => Ok(None),
        Some(v) => v
            .parse::<T>()
            .map(Some)
            .map_err(|e| AppError::field(name, "unknown_value", format!("{v:?} is not allowed; {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejects_garbage() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(Some(&encode_cursor(id))).expect("valid"), Some(id));
        for bad in ["x", "!!!", "djE6bm90LWEtdXVpZA", "AAAA", "AAAAAAAAAAAAAAAAAAAAAB"] {
            assert!(decode_cursor(Some(bad)).is_err(), "{bad}");
        }
        // The documented shape: 21 free characters and one of four.
        let c = encode_cursor(id);
        assert_eq!(c.len(), 22);
        assert!(c.ends_with(['A', 'Q', 'g', 'w']), "{c}");
        assert!(decode_cursor(Some("AAAAAAAAAAAAAAAAAAAAAw")).is_ok(), "any id of that shape continues a listing");
        assert_eq!(decode_cursor(None).expect("none"), None);
    }
}
