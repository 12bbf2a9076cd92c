//! The HTTP ceiling for `benches/load/ceilings.sh`: actix-web answering every GET with a small
//! constant JSON document, with the same worker count as the service (one per core). What the
//! load tool reaches here is the most any handler on this stack and machine can reach.
//! Run: `cargo run --release --example ceiling_http -- 127.0.0.1:18499`

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18499".to_owned());
    HttpServer::new(|| {
        App::new().default_service(
            web::get().to(|| async { HttpResponse::Ok().json(serde_json::json!({"items": [], "next_cursor": null})) }),
        )
    })
    .bind(addr)?
    .run()
    .await
}
