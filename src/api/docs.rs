//! The OpenAPI document, generated from the handlers and types, and the offline Swagger UI.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    applications, banks, consents, financing, firm_inputs, firms, funds, health, import, investments, keys, listing,
    matches, pool, problem, products, roadshows, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "srdi-capital",
        description = "Financing and listing service for Shandong's 专精特新 (SRDI) firms: the listing reserve pool, \
            readiness against every venue's standards, bank loan matching, webhooks to partner banks and fund roadshows. \
            Authenticate with `Authorization: Bearer <api key>`. Errors are `application/problem+json`.",
        license(name = "Apache-2.0")
    ),
    paths(
        health::healthz, health::readyz, keys::revoke_key,
        firms::list_firms, firms::create_firm, firms::get_firm, firms::patch_firm, firms::list_financials, firms::put_financials,
        import::import_firms,
        pool::list_pool, pool::admit, pool::get_entry, pool::remove,
        listing::readiness, listing::tier_check, listing::record_event, listing::progress,
        firm_inputs::get_inputs, firm_inputs::patch_inputs, firm_inputs::list_attestations, firm_inputs::attest,
        firm_inputs::put_tier_inputs,
        listing::list_rules, listing::put_rules, listing::programme_stats,
        webhooks::create_endpoint, webhooks::list_endpoints, webhooks::get_endpoint, webhooks::patch_endpoint,
        webhooks::delete_endpoint, webhooks::enable_endpoint, webhooks::disable_endpoint, webhooks::rotate_secret,
        webhooks::test_endpoint, webhooks::recover, webhooks::list_attempts, webhooks::resend_event,
        funds::create_fund, funds::list_funds, funds::get_fund, funds::issue_key,
        roadshows::create_roadshow, roadshows::list_roadshows, roadshows::get_roadshow, roadshows::patch_roadshow,
        roadshows::set_status, roadshows::calendar, roadshows::recommended_firms, roadshows::outcome,
        roadshows::list_presenters, roadshows::put_presenter, roadshows::delete_presenter,
        roadshows::register, roadshows::list_registrations, roadshows::get_registration, roadshows::cancel_registration,
        roadshows::decide, roadshows::check_in, roadshows::firm_slots, roadshows::get_visibility, roadshows::put_visibility,
        investments::create_investment, investments::list_investments, investments::get_investment, investments::patch_investment,
        banks::create_bank, banks::list_banks, banks::get_bank, banks::issue_key, banks::list_lpr, banks::put_lpr,
        products::create_product, products::list_products, products::get_product, products::patch_product, products::delete_product,
        consents::grant, consents::list, consents::revoke,
        matches::list_matches, matches::get_match, matches::get_firm_matches, financing::rematch,
        applications::apply, applications::list, applications::get, applications::transition,
        financing::financing_status, financing::put_lead_bank, financing::put_tutoring,
    ),
    components(schemas(problem::Problem, crate::domain::validate::FieldError, crate::service::webhooks::EventEnvelope)),
    modifiers(&ApiConventions),
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
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ];
            for (op, writes) in ops {
                let Some(op) = op.as_mut() else { continue };
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

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn openapi_pretty() -> String {
    let mut s = openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

pub async fn openapi_json() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().content_type("application/json").body(openapi_pretty())
}

pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json"))
}
