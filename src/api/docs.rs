//! The OpenAPI document, generated from the handlers and types, and the offline Swagger UI.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "srdi-capital",
        description = "Financing and listing service for Shandong's 专精特新 (SRDI) firms: the listing reserve pool, \
            readiness against every venue's standards, bank loan matching, webhooks to partner banks and fund roadshows. \
            Authenticate with `Authorization: Bearer <api key>`. Errors are `application/problem+json`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(problem::Problem, crate::domain::validate::FieldError, crate::service::webhooks::EventEnvelope)),
    tags(
        (name = "firms", description = "Firm registry (企业库) and yearly financials"),
        (name = "reserve-pool", description = "Listing reserve pool (上市后备资源库)"),
        (name = "listing", description = "Listing readiness, SME tier check, listing milestones and rule data"),
        (name = "statistics", description = "Programme statistics against the plan's targets"),
        (name = "webhooks", description = "Webhooks to partner banks: Standard Webhooks signatures (`webhook-id`, \
            `webhook-timestamp`, `webhook-signature`), at-least-once delivery with retries; see EventEnvelope"),
        (name = "funds", description = "Fund organisations (基金) and their managers' keys"),
        (name = "roadshows", description = "Fund roadshows (齐鲁企舞路演): centres, presenters, calendar, outcome"),
        (name = "registrations", description = "Fund managers' roadshow registrations, waitlist and check-in"),
        (name = "investments", description = "Investment intentions and closed investments (基金投资项目)"),
        (name = "banks", description = "Partner banks (合作银行) and their API keys"),
        (name = "products", description = "Loan products (专精特新贷, 小巨人贷, …) and the LPR table"),
        (name = "consents", description = "Data-sharing consent: a bank sees a firm only while a consent covers it"),
        (name = "matches", description = "Firm × product matches, kept current; bank pull with incremental sync"),
        (name = "applications", description = "Financing applications (融资申请) and the enterprise's financing status"),
        (name = "operations", description = "Health, readiness and API key revocation"),
    )
)]
pub struct ApiDoc;

/// What every operation shares: bearer keys, and errors as `application/problem+json`. Handlers
/// declare their specific outcomes; the statuses any request can meet (a bad query, a missing key,
/// a body of the wrong type, a busy database) are added here once, with the problem media type.
struct ApiConventions;

impl Modify for ApiConventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("API key").build()),
        );
        for schema in components.schemas.values_mut() {
            if let utoipa::openapi::RefOr::T(schema) = schema {
                state_no_nul(schema);
            }
        }
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ];
            for (op, writes) in ops {
                let Some(op) = op.as_mut() else { continue };
                shape_shared_parameters(path, op);
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let responses = &mut op.responses.responses;
                // Errors declared by handlers come back as problem documents.
                for (status, resp) in responses.iter_mut() {
                    if status.starts_with('4') || status.starts_with('5') {
                        *resp = problem(&match resp {
                            utoipa::openapi::RefOr::T(r) => r.description.clone(),
                            utoipa::openapi::RefOr::Ref(_) => "Error".to_owned(),
                        })
                        .into();
                    }
                }
                let too_many = ResponseBuilder::new()
                    .description(
                        "More requests at once than the service takes now; nothing was done. Send it again \
                        after the `Retry-After` seconds",
                    )
                    .header(
                        "Retry-After",
                        utoipa::openapi::HeaderBuilder::new()
                            .schema(
                                utoipa::openapi::ObjectBuilder::new()
                                    .schema_type(utoipa::openapi::schema::Type::Integer),
                            )
                            .description(Some("seconds to wait"))
                            .build(),
                    )
                    .content(
                        "application/problem+json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                    )
                    .build();
                responses.entry("429".to_owned()).or_insert_with(|| too_many.into());
                let mut generic =
                    vec![("400", "The request could not be read"), ("503", "The database is unreachable")];
                if secured {
                    generic
                        .extend([("401", "Missing, unknown or revoked API key"), ("403", "Not allowed for this key")]);
                    generic.push(("422", "A parameter or field is invalid; every bad field is listed"));
                }
                if writes {
                    generic.extend([
                        ("409", "Conflicts with the current state (or an Idempotency-Key reused)"),
                        ("413", "Request body too large"),
                        ("415", "Unsupported media type"),
                    ]);
                }
                for (status, description) in generic {
                    responses.entry(status.to_owned()).or_insert_with(|| problem(description).into());
                }
            }
        }
    }
}

/// The parameters many operations share are checked by one piece of code each, so their shape is
/// stated here once: a page cursor (see `service::paging`), a matches sync token, the days and
/// instants of filters, the GB/T 4754 industry filter, an `Idempotency-Key`, and the rule of the
/// query reader that no value carries U+0000.
fn shape_shared_parameters(path: &str, op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    let Some(params) = op.parameters.as_mut() else { return };
    for param in params {
        let shaped: Schema = match (&param.parameter_in, param.name.as_str()) {
            (ParameterIn::Query, "cursor") if path == "/v1/matches" => {
                text(crate::service::matches::MATCH_CURSOR_PATTERN).into()
            }
            (ParameterIn::Query, "cursor") => text(crate::service::paging::CURSOR_PATTERN).into(),
            // A section letter A–T and up to four digits; blank means no filter, case is ignored.
            (ParameterIn::Query, "industry") => text("^([A-Ta-t][0-9]{0,4})?$").into(),
            // A sync token from an earlier pull, or an RFC 3339 instant; blank means a full pull.
            (ParameterIn::Query, "updated_since") => blank_or(vec![
                text(crate::service::matches::SYNC_TOKEN_PATTERN).into(),
                formatted(KnownFormat::DateTime),
            ]),
            // A day; blank means the default (today, or no bound).
            (ParameterIn::Query, "as_of" | "from" | "to") => blank_or(vec![formatted(KnownFormat::Date)]),
            (ParameterIn::Header, "Idempotency-Key") => {
                text(IDEMPOTENCY_KEY_PATTERN).min_length(Some(1)).max_length(Some(255)).into()
            }
            // A word of a vocabulary; blank means no filter (`service::paging::given`).
            (ParameterIn::Query, _) if matches!(&param.schema, Some(utoipa::openapi::RefOr::Ref(_))) => {
                let Some(vocabulary) = param.schema.take() else { continue };
                blank_or(vec![vocabulary])
            }
            (ParameterIn::Query, _) => {
                let free_text = matches!(&param.schema, Some(utoipa::openapi::RefOr::T(Schema::Object(o)))
                    if o.pattern.is_none() && o.enum_values.is_none() && o.format.is_none()
                        && o.schema_type == SchemaType::Type(Type::String));
                if !free_text {
                    continue;
                }
                text("^[^\\u0000]*$").into()
            }
            _ => continue,
        };
        param.schema = Some(shaped.into());
    }
}

use utoipa::openapi::KnownFormat;

/// No text the service reads or writes carries U+0000 (`api::reject_nul` refuses it in every JSON
/// body): free-text string properties say so with a pattern; a "not blank" one keeps saying that too.
fn state_no_nul(schema: &mut utoipa::openapi::Schema) {
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    use utoipa::openapi::{RefOr, Schema as S};
    let nested = |items: &mut Vec<RefOr<S>>| {
        for item in items {
            if let RefOr::T(s) = item {
                state_no_nul(s);
            }
        }
    };
    match schema {
        Schema::Object(o) => {
            let text = match &o.schema_type {
                SchemaType::Type(Type::String) => true,
                SchemaType::Array(types) => types.contains(&Type::String),
                _ => false,
            };
            if text && o.format.is_none() && o.enum_values.is_none() {
                match o.pattern.as_deref() {
                    None => o.pattern = Some("^[^\\u0000]*$".to_owned()),
                    Some("\\S") => o.pattern = Some("^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$".to_owned()),
                    Some(_) => {}
                }
            }
            for property in o.properties.values_mut() {
                if let RefOr::T(s) = property {
                    state_no_nul(s);
                }
            }
        }
        Schema::Array(a) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(item) = &mut a.items
                && let RefOr::T(s) = item.as_mut()
            {
                state_no_nul(s);
            }
        }
        Schema::OneOf(o) => nested(&mut o.items),
        Schema::AnyOf(o) => nested(&mut o.items),
        Schema::AllOf(o) => nested(&mut o.items),
        _ => {}
    }
}

fn text(pattern: &str) -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(pattern))
}

fn formatted(format: KnownFormat) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(format)))
        .into()
}

/// A string of one of the given forms, or the empty string (a query parameter given blank).
fn blank_or(forms: Vec<utoipa::openapi::RefOr<utoipa::openapi::Schema>>) -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let blank = ObjectBuilder::new().schema_type(Type::String).max_length(Some(0));
    forms.into_iter().fold(AnyOfBuilder::new(), |any, form| any.item(form)).item(blank).into()
}

/// 1 to 255 visible ASCII characters, as `api::idempotent` requires.
const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]+$";

/// The document: what `ApiDoc` states of the whole API, every operation of `api::operations`,
/// then the conventions they share.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    for operation in super::operations() {
        document.merge(operation.document);
    }
    ApiConventions.modify(&mut document);
    document
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn openapi_pretty() -> String {
    let mut s = openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Served as built once: the document is assembled from the operations' parts, which need not
/// be done again for every reader.
pub async fn openapi_json() -> actix_web::HttpResponse {
    static DOCUMENT: std::sync::OnceLock<actix_web::web::Bytes> = std::sync::OnceLock::new();
    let document = DOCUMENT.get_or_init(|| openapi_pretty().into()).clone();
    actix_web::HttpResponse::Ok().content_type("application/json").body(document)
}

pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json"))
}
