//! A posted HTML form, read into the same input types the API's JSON bodies become. Only the
//! transport differs (every value arrives as text); the validation that follows is the domain's.

use std::str::FromStr;

use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use rust_decimal::Decimal;

use super::FormErrors;
use super::i18n::Lang;
use crate::domain::validate::{FieldError, nul_errors};
use crate::error::AppError;

/// The fields of a URL-encoded form, in order, plus the problems met while reading numbers.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
    pub read_errors: Vec<FieldError>,
    /// The reader's language, for the field errors shown with the form again.
    lang: Lang,
}

impl Form {
    /// A value carrying U+0000 is never kept: it is a reading error of its field instead.
    pub fn from_bytes(body: &[u8]) -> Form {
        let (pairs, refused): (Vec<(String, String)>, Vec<_>) =
            url::form_urlencoded::parse(body).into_owned().partition(|(k, v)| !k.contains('\0') && !v.contains('\0'));
        let read_errors = nul_errors(
            refused.iter().map(|(k, v)| (k.as_str(), if k.contains('\0') { k.as_str() } else { v.as_str() })),
        );
        Form { pairs, read_errors, ..Form::default() }
    }

    /// The value as sent, empty included (an empty profile field clears it).
    pub fn raw(&self, name: &str) -> Option<String> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned())
    }

    /// A non-empty value.
    pub fn text(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    pub fn checked(&self, name: &str) -> bool {
        self.text(name).is_some_and(|v| v == "on" || v == "true" || v == "1")
    }

    /// A non-empty value parsed as `T`; a value that does not parse is a field error.
    pub fn parse<T: FromStr>(&mut self, name: &str) -> Option<T> {
        let raw = self.text(name)?;
        match raw.replace([',', '，'], "").parse::<T>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.read_errors.push(FieldError::new(name, "invalid", format!("{raw:?} is not a valid value")));
                None
            }
        }
    }

    pub fn decimal(&mut self, name: &str) -> Option<Decimal> {
        self.parse::<Decimal>(name)
    }

    /// Domain validation errors together with the reading errors, so the form shows them all.
    /// A form's outcome: 422 validation errors are shown on the form again, in the reader's
    /// language; anything else is an error page.
    pub fn errors_of(&self, error: AppError) -> Result<FormErrors, AppError> {
        match error {
            AppError::Validation(list) => Ok(FormErrors { list, lang: self.lang }),
            other => Err(other),
        }
    }

    pub fn merge<T>(&self, result: Result<T, AppError>) -> Result<T, AppError> {
        match (result, self.read_errors.is_empty()) {
            (Ok(v), true) => Ok(v),
            (Ok(_), false) => Err(AppError::Validation(self.read_errors.clone())),
            (Err(AppError::Validation(mut list)), _) => {
                // A value that could not be read is the problem with its field, not its absence.
                list.retain(|x| {
                    !self.read_errors.iter().any(|e| x.field == e.field || x.field.ends_with(&format!(".{}", e.field)))
                });
                list.extend(self.read_errors.iter().cloned());
                Err(AppError::Validation(list))
            }
            (Err(e), _) => Err(e),
        }
    }
}

impl FromRequest for Form {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Form, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        let lang = super::session::lang_of(req);
        Box::pin(async move {
            let body = bytes.await.map_err(|_| AppError::bad_request("invalid_form", "the form could not be read"))?;
            Ok(Form { lang, ..Form::from_bytes(&body) })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_numbers_and_reports_bad_numbers() {
        let mut f = Form::from_bytes(b"name=%E6%B5%8B%E8%AF%95&amount=3%2C000%2C000&term=x&empty=");
        assert_eq!(f.text("name").as_deref(), Some("测试"));
        assert_eq!(f.decimal("amount"), Some(Decimal::from(3_000_000)));
        assert_eq!(f.parse::<i32>("term"), None);
        assert_eq!(f.raw("empty").as_deref(), Some(""));
        assert_eq!(f.text("empty"), None);
        assert_eq!(f.read_errors.len(), 1);
        assert_eq!(f.read_errors[0].field, "term");
        let f = Form::from_bytes(b"name=a%00b&city=jinan");
        assert_eq!(f.text("name"), None);
        assert_eq!(f.read_errors[0].field, "name");
    }
}
