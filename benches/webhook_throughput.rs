//! Webhook delivery load test: the real application in-process on PostgreSQL, a loopback
//! receiver that answers 204 at once, and business transactions that change a firm's financials
//! the way `PUT /v1/firms/{id}/financials/{year}` does (`service::firms::put_financials`, then the
//! in-transaction re-evaluation `service::matching::refresh_firm`). Each change moves the firm's
//! revenue across the one product's minimum, so the matching engine writes `match.created` or
//! `match.withdrawn` and the one event path fans it out, as in production.
//!
//! Two phases:
//! 1. **Backlog drain**: `BENCH_BACKLOG` events are committed while no dispatcher runs, then an
//!    instance with workers starts; measures how fast the dispatcher empties the queue.
//! 2. **Live**: producers commit `BENCH_RATE` events per second for `BENCH_SECONDS`; measures
//!    sustained deliveries per second and the latency from each transaction's commit to the
//!    receiver's arrival (p50, p90, p99, max).
//!
//! Run: `cargo bench --bench webhook_throughput` (release profile). Settings (environment):
//! `SRDI_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`), `BENCH_BACKLOG`
//! (20000), `BENCH_RATE` (1200), `BENCH_SECONDS` (20), `BENCH_PRODUCERS` (8),
//! `BENCH_EVENTS_PER_TX` (1), `BENCH_ENDPOINTS` (1), `BENCH_POLL_MS` (default config: 100).

#[path = "../tests/support/webhook_receiver.rs"]
mod receiver;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use srdi_capital::clock::SystemClock;
use srdi_capital::config::{Config, Secret};
use srdi_capital::db::Db;
use srdi_capital::db::types::ts;
use srdi_capital::domain::events::EventKind;
use srdi_capital::domain::firm::FinancialYear;
use srdi_capital::domain::product::{Collateral, Eligibility, ProductDraft, ProductKind};
use srdi_capital::service::{firms as firm_changes, matching};
use srdi_capital::startup::Application;
use srdi_capital::store::{events, matches};
use srdi_capital::webhooks::endpoint::EndpointFields;
use srdi_capital::webhooks::payload::EventType;
use srdi_capital::webhooks::settings;
use srdi_capital::webhooks::signing::{SecretBoxKey, WebhookSecret};
use uuid::Uuid;

use receiver::Receiver;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const FIRMS: usize = 500;

struct Setup {
    url: String,
    config: Config,
    product: Uuid,
    firms: Vec<Uuid>,
    /// Per firm: the version of its match with the product so far (the producers own disjoint
    /// firms, so each counter has one writer at a time).
    versions: Arc<Vec<std::sync::atomic::AtomicI64>>,
}

/// Revenue that qualifies for the bench product, and revenue that does not.
const HIGH: i64 = 20_000_000;
const LOW: i64 = 5_000_000;

async fn prepare(base: &str, receiver: &Receiver, endpoints: usize) -> anyhow::Result<(Setup, String)> {
    sqlx::any::install_default_drivers();
    let admin_url = format!("{base}/postgres");
    let name = format!("srdi_bench_{}", Uuid::new_v4().simple());
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await?;
    let url = format!("{base}/{name}");
    let mut config = Config {
        database_url: Secret::new(url.clone()),
        database_max_connections: 16,
        listen: "127.0.0.1:0".parse()?,
        webhooks_secret_key: Some(SecretBoxKey::generate()),
        webhooks_allow_networks: vec!["127.0.0.1/32".parse()?],
        webhooks_allow_http: true,
        ..Config::default()
    };
    if let Ok(ms) = std::env::var("BENCH_POLL_MS") {
        config.webhooks_poll_interval_ms = ms.parse()?;
    }
    let db = Db::connect(&url, 4).await?;
    db.migrate().await?;
    let now = chrono::Utc::now();
    let bank = srdi_capital::domain::ids::BankId::new();
    sqlx::query("INSERT INTO banks (id, code, name, contact_email, created_at) VALUES ($1, 'BENCH', 'Bench Bank', 'ops@bank.example', $2)")
        .bind(bank.to_string())
        .bind(ts(now))
        .execute(db.pool())
        .await?;
    let sealer = settings::secret_box(&config)?;
    let mut tx = db.begin().await?;
    for i in 0..endpoints {
        let fields = EndpointFields {
            url: receiver.url(&format!("/bench/{i}")),
            description: format!("bench {i}"),
            event_types: vec![EventType::MatchCreated, EventType::MatchWithdrawn],
            product_ids: None,
            rate_limit_per_second: 5_000,
            max_concurrency: 200,
        };
        let sealed = sealer.seal_secret(&WebhookSecret::generate())?;
        srdi_capital::store::webhooks::insert_endpoint(&mut tx, bank, &fields, &sealed, now).await?;
    }
    let draft = ProductDraft {
        name: Some("压测专精特新贷".into()),
        kind: Some(ProductKind::SrdiLoan),
        amount_min: Some(rust_decimal::Decimal::from(500_000)),
        amount_max: Some(rust_decimal::Decimal::from(10_000_000)),
        term_months_min: Some(6),
        term_months_max: Some(36),
        rate_spread_bp: Some(-20),
        collateral: vec![Collateral::Credit],
        eligibility: Eligibility {
            min_revenue: Some(rust_decimal::Decimal::from(10_000_000)),
            ..Eligibility::default()
        },
        ..ProductDraft::default()
    };
    let terms = draft.validate().map_err(|e| anyhow::anyhow!("bench product: {e:?}"))?;
    let product = srdi_capital::store::products::insert(&mut tx, bank, &terms, now).await?.id;
    let mut firms = Vec::with_capacity(FIRMS);
    for i in 0..FIRMS {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO firms (id, credit_code, name, city, industry_code, created_at, updated_at) VALUES ($1, $2, $3, 'jinan', 'C3562', $4, $4)",
        )
        .bind(id.to_string())
        .bind(format!("BENCH{i:013}"))
        .bind(format!("压测企业{i}"))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO consents (id, firm_id, bank_id, purpose, granted_at, expires_at) VALUES ($1, $2, NULL, 'financing_matching', $3, $4)",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(id.to_string())
        .bind(ts(now - chrono::Duration::days(1)))
        .bind(ts(now + chrono::Duration::days(365)))
        .execute(&mut *tx)
        .await?;
        firms.push(id);
    }
    tx.commit().await?;
    db.close().await;
    let versions = Arc::new((0..firms.len()).map(|_| std::sync::atomic::AtomicI64::new(0)).collect());
    Ok((Setup { url, config, product, firms, versions }, name))
}

async fn start_app(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(config.database_url.expose(), config.database_max_connections).await?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let app = Application::with_listener(config, Arc::new(SystemClock), db, listener).await?;
    tokio::spawn(app.run_until_stopped());
    Ok(())
}

/// Commits `total` events (in transactions of `per_tx`) from `producers` tasks, paced to `rate`
/// events per second overall (0: as fast as possible). Returns each event's commit instant.
async fn produce(
    db: &Db,
    setup: &Setup,
    total: usize,
    per_tx: usize,
    producers: usize,
    rate: f64,
) -> anyhow::Result<HashMap<String, Instant>> {
    let next = Arc::new(AtomicUsize::new(0));
    let commits = Arc::new(Mutex::new(HashMap::with_capacity(total)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..producers {
        let db = db.clone();
        let next = next.clone();
        let commits = commits.clone();
        // Producer k changes firms k, k + producers, …: one writer per firm, so it knows each
        // match's next version and hence the event's id.
        let own: Vec<usize> = (k..setup.firms.len()).step_by(producers).collect();
        let firms = setup.firms.clone();
        let versions = setup.versions.clone();
        let product = setup.product;
        tasks.push(tokio::spawn(async move {
            let mut cursor = 0usize;
            loop {
                let first = next.fetch_add(per_tx, Ordering::SeqCst);
                if first >= total {
                    return Ok::<(), anyhow::Error>(());
                }
                if rate > 0.0 {
                    let due = started + Duration::from_secs_f64(first as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let mut tx = db.begin().await?;
                let mut ids = Vec::with_capacity(per_tx);
                for _ in first..(first + per_tx).min(total) {
                    let i = own[cursor % own.len()];
                    cursor += 1;
                    let firm = srdi_capital::domain::ids::FirmId::from_uuid(firms[i]);
                    let version = versions[i].load(Ordering::SeqCst) + 1;
                    let qualifies = version % 2 == 1;
                    let now = chrono::Utc::now();
                    let fy = FinancialYear {
                        fiscal_year: 2024,
                        revenue: Some(rust_decimal::Decimal::from(if qualifies { HIGH } else { LOW })),
                        ..FinancialYear::default()
                    };
                    firm_changes::put_financials(&mut tx, firm, &fy, now)
                        .await
                        .map_err(|e| anyhow::anyhow!("financials: {e}"))?;
                    matching::refresh_firm(&mut tx, db.dialect(), firm, now)
                        .await
                        .map_err(|e| anyhow::anyhow!("matching: {e}"))?;
                    versions[i].store(version, Ordering::SeqCst);
                    let kind = if qualifies { EventKind::MatchCreated } else { EventKind::MatchWithdrawn };
                    let id = events::event_id(kind, &matches::fact_key(firm, product, version));
                    ids.push(format!("evt_{}", id.simple()));
                }
                tx.commit().await?;
                let at = Instant::now();
                let mut c = commits.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                for id in ids {
                    c.insert(id, at);
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let commits = std::mem::take(&mut *commits.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    Ok(commits)
}

async fn wait_arrivals(receiver: &Receiver, n: usize, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while receiver.arrival_count() < n {
        if Instant::now() > deadline {
            anyhow::bail!("only {} of {n} deliveries arrived within {limit:?}", receiver.arrival_count());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = std::env::var("SRDI_BENCH_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let backlog: usize = env("BENCH_BACKLOG", 20_000);
    let rate: f64 = env("BENCH_RATE", 1200.0);
    let seconds: f64 = env("BENCH_SECONDS", 20.0);
    let producers: usize = env("BENCH_PRODUCERS", 8);
    let per_tx: usize = env("BENCH_EVENTS_PER_TX", 1);
    let endpoints: usize = env("BENCH_ENDPOINTS", 1);
    let receiver = Receiver::start_lean().await;
    let (setup, dbname) = prepare(&base, &receiver, endpoints).await?;
    let producer_db = Db::connect(&setup.url, producers as u32 + 2).await?;
    println!(
        "webhook_throughput: PostgreSQL, {endpoints} endpoint(s), {producers} producers, {per_tx} event(s) per transaction, \
         poll {} ms, batch {}, in-flight cap {}",
        setup.config.webhooks_poll_interval_ms, setup.config.webhooks_batch_size, setup.config.webhooks_max_in_flight
    );

    // Phase 1: a backlog, committed with no dispatcher running, then drained.
    if backlog > 0 {
        let t = Instant::now();
        produce(&producer_db, &setup, backlog, 50, producers, 0.0).await?;
        println!("backlog: {backlog} events committed in {:.1} s", t.elapsed().as_secs_f64());
    }
    start_app(setup.config.clone()).await?;
    if backlog > 0 {
        let t = Instant::now();
        wait_arrivals(&receiver, backlog * endpoints, Duration::from_secs(600)).await?;
        let took = t.elapsed();
        println!(
            "backlog drain: {} deliveries in {:.2} s = {:.0} deliveries/s",
            backlog * endpoints,
            took.as_secs_f64(),
            (backlog * endpoints) as f64 / took.as_secs_f64()
        );
    }

    // Phase 2: live load at a fixed offered rate.
    let before = receiver.arrival_count();
    let total = (rate * seconds) as usize;
    let t = Instant::now();
    let commits = produce(&producer_db, &setup, total, per_tx, producers, rate).await?;
    let produced_in = t.elapsed();
    wait_arrivals(&receiver, before + total * endpoints, Duration::from_secs(600)).await?;
    let arrivals = receiver.arrivals();
    let live = &arrivals[before..];
    let first_commit = commits.values().min().copied().unwrap_or(t);
    let last_arrival = live.iter().map(|(_, _, at)| *at).max().unwrap_or(t);
    let mut latencies: Vec<Duration> =
        live.iter().filter_map(|(_, id, at)| commits.get(id).map(|c| at.saturating_duration_since(*c))).collect();
    latencies.sort();
    let span = last_arrival.saturating_duration_since(first_commit).as_secs_f64();
    println!(
        "live: offered {rate:.0} events/s for {seconds:.0} s; committed {total} in {:.2} s ({:.0} events/s)",
        produced_in.as_secs_f64(),
        total as f64 / produced_in.as_secs_f64()
    );
    println!(
        "live: {} deliveries from first commit to last arrival in {span:.2} s = {:.0} deliveries/s",
        live.len(),
        live.len() as f64 / span
    );
    println!(
        "live: commit → arrival latency p50 {} | p90 {} | p99 {} | max {} ({} samples)",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        latencies.len()
    );
    let duplicates = {
        let mut ids: Vec<(&str, &str)> = arrivals.iter().map(|(path, id, _)| (path.as_str(), id.as_str())).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        n - ids.len()
    };
    println!("duplicate deliveries (same webhook-id to the same endpoint): {duplicates}");

    producer_db.close().await;
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{base}/postgres")).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{dbname}\" WITH (FORCE)")).execute(&mut admin).await?;
    std::process::exit(0);
}
