//! Burst of roadshow registrations: N simultaneous `POST /v1/roadshows/{id}/registrations`
//! against one roadshow, over real HTTP, on PostgreSQL. Reports the wall time until the last answer,
//! latency percentiles and the answers by status, and checks the result: every answer is 201 or 429
//! (with `Retry-After`; the admission queue turned it away), never anything else; exactly
//! min(capacity, created) confirmed, the other created registrations waitlisted at places 1…k, the
//! roadshow's seat counter equal to the confirmed, and the last answer within `BENCH_DEADLINE_SECS`.
//!
//! The service runs in this process (its own actix worker threads) on a fresh database that is
//! dropped at the end; the client is reqwest on the main runtime, so both share the machine.
//!
//! Run (release): `cargo bench --bench registration_load`
//! Settings (environment): `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`),
//! `BENCH_REQUESTS` (2000), `BENCH_CAPACITY` (50), `BENCH_DB_CONNECTIONS` (16), `BENCH_RUNS` (3),
//! `BENCH_DEADLINE_SECS` (10); the admission settings are the service's (`SRDI_ADMISSION_*`),
//! `BENCH_MAIL_WORKER` (0: mails are enqueued in each registration's transaction either way; 1 also
//! runs the mail worker, writing `.eml` files to a temporary folder, during the run).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use srdi_capital::clock::SystemClock;
use srdi_capital::config::{Config, Secret};
use srdi_capital::db::Db;
use srdi_capital::domain::access::Role;
use srdi_capital::domain::roadshow::{FundFields, FundKind, RoadshowInput, RoadshowStatus};
use srdi_capital::startup::Application;
use srdi_capital::store::{funds, keys, roadshows};
use uuid::Uuid;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct RunResult {
    wall: Duration,
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, usize>,
    confirmed: usize,
    waitlisted: usize,
    positions_ok: bool,
    seats_taken: i64,
}

async fn one_run(base: &str, db: &Db, fund_key: &str, requests: usize, capacity: i64) -> anyhow::Result<RunResult> {
    let now = Utc::now();
    let start = now + chrono::Duration::days(10);
    let fields = RoadshowInput {
        title: Some("齐鲁企舞·济南站 压测专场".into()),
        centre: Some("jinan".into()),
        starts_at: Some(start.to_rfc3339()),
        ends_at: Some((start + chrono::Duration::hours(3)).to_rfc3339()),
        registration_opens_at: Some((now - chrono::Duration::hours(1)).to_rfc3339()),
        capacity: Some(capacity),
        ..RoadshowInput::default()
    }
    .validate_onto(None, now)
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut conn = db.pool().acquire().await?;
    let rs = roadshows::insert(&mut conn, &fields, RoadshowStatus::Published, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(conn);

    let client = reqwest::Client::builder().pool_max_idle_per_host(requests).build()?;
    let url = format!("{base}/v1/roadshows/{}/registrations", rs.id);
    let barrier = Arc::new(tokio::sync::Barrier::new(requests + 1));
    let mut tasks = Vec::with_capacity(requests);
    let run_tag = Uuid::now_v7().simple().to_string();
    for i in 0..requests {
        let client = client.clone();
        let url = url.clone();
        let key = fund_key.to_owned();
        let barrier = barrier.clone();
        let email = format!("m{i}.{}@fund.example.cn", &run_tag[20..]);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let t0 = Instant::now();
            let resp = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"attendee_name": format!("经理{i}"), "attendee_email": email}))
                .send()
                .await;
            let elapsed = t0.elapsed();
            match resp {
                Ok(r) => {
                    let status = r.status().as_u16();
                    if status == 429 && r.headers().get("retry-after").is_none() {
                        return (elapsed, 0, json!({"error": "429 without Retry-After"}));
                    }
                    let body: Value = r.json().await.unwrap_or(Value::Null);
                    (elapsed, status, body)
                }
                Err(e) => (elapsed, 0, json!({"error": e.to_string()})),
            }
        }));
    }
    barrier.wait().await;
    let t0 = Instant::now();
    let mut latencies = Vec::with_capacity(requests);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut bodies = Vec::with_capacity(requests);
    for t in tasks {
        let (elapsed, status, body) = t.await?;
        latencies.push(elapsed);
        *statuses.entry(status).or_default() += 1;
        if status != 201 && status != 429 {
            eprintln!("unexpected answer {status}: {body}");
        }
        bodies.push(body);
    }
    let wall = t0.elapsed();
    latencies.sort();
    let confirmed = bodies.iter().filter(|b| b["status"] == "confirmed").count();
    let mut positions: Vec<i64> =
        bodies.iter().filter(|b| b["status"] == "waitlisted").filter_map(|b| b["waitlist_position"].as_i64()).collect();
    let waitlisted = positions.len();
    positions.sort();
    let positions_ok = positions == (1..=waitlisted as i64).collect::<Vec<_>>();
    let mut conn = db.pool().acquire().await?;
    let seats_taken = roadshows::get(&mut conn, rs.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map(|r| r.seats_taken)
        .unwrap_or(-1);
    Ok(RunResult { wall, latencies, statuses, confirmed, waitlisted, positions_ok, seats_taken })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; a filter argument that is not ours means "not this bench".
    if std::env::args().skip(1).any(|a| !a.starts_with("--") && !"registration_load".contains(a.as_str())) {
        return Ok(());
    }
    let base_url: String = env("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432".to_owned());
    let requests: usize = env("BENCH_REQUESTS", 2000);
    let capacity: i64 = env("BENCH_CAPACITY", 50);
    let deadline = Duration::from_secs(env("BENCH_DEADLINE_SECS", 10));
    let connections: u32 = env("BENCH_DB_CONNECTIONS", 16);
    let runs: usize = env("BENCH_RUNS", 3);
    let mail_worker: u8 = env("BENCH_MAIL_WORKER", 0);

    sqlx::any::install_default_drivers();
    let name = format!("srdi_bench_{}", Uuid::new_v4().simple());
    let admin_url = format!("{base_url}/postgres");
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await?;
    let db_url = format!("{base_url}/{name}");
    let mail_dir = std::env::temp_dir().join(format!("srdi-bench-mail-{name}"));

    let result = async {
        let db = Db::connect(&db_url, connections).await?;
        db.migrate().await?;
        let config = Config {
            database_url: Secret::new(db_url.clone()),
            database_max_connections: connections,
            listen: "127.0.0.1:0".parse()?,
            workers_enabled: mail_worker == 1,
            admission_in_flight: env("SRDI_ADMISSION_IN_FLIGHT", 0),
            admission_queue: env("SRDI_ADMISSION_QUEUE", 1024),
            admission_queue_timeout_ms: env("SRDI_ADMISSION_QUEUE_TIMEOUT_MS", 2000),
            mail_dir: mail_dir.clone(),
            ..Config::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let app = Application::with_listener(config, Arc::new(SystemClock), db.clone(), listener).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());

        let mut conn = db.pool().acquire().await?;
        let fund = funds::insert(
            &mut conn,
            &FundFields {
                name: "压测基金".into(), kind: FundKind::Vc, contact_email: "bench@fund.example.cn".into()
            },
            Utc::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (_, key) = keys::create(&mut conn, Role::Fund, Some(fund.id), "bench", Utc::now())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        drop(conn);

        println!(
            "registration_load: {requests} simultaneous registrations, capacity {capacity}, PostgreSQL, \
             {connections} database connections, mail worker {}",
            if mail_worker == 1 { "on" } else { "off (mails enqueued only)" }
        );
        let mut ok = true;
        for run in 1..=runs {
            let r = one_run(&base, &db, &key, requests, capacity).await?;
            let rps = requests as f64 / r.wall.as_secs_f64();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let created = r.statuses.get(&201).copied().unwrap_or(0);
            let refused = r.statuses.get(&429).copied().unwrap_or(0);
            let exact = created + refused == requests
                && r.confirmed == (capacity as usize).min(created)
                && r.waitlisted == created - r.confirmed
                && r.positions_ok
                && r.seats_taken == r.confirmed as i64
                && r.wall <= deadline;
            ok &= exact;
            println!(
                "run {run}: {:.0} req/s over {:.3} s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
                 answers {:?}; confirmed {} waitlisted {} (places 1..{} {}), seats_taken {} => {}",
                rps,
                r.wall.as_secs_f64(),
                ms(percentile(&r.latencies, 50.0)),
                ms(percentile(&r.latencies, 90.0)),
                ms(percentile(&r.latencies, 99.0)),
                ms(percentile(&r.latencies, 100.0)),
                r.statuses,
                r.confirmed,
                r.waitlisted,
                r.waitlisted,
                if r.positions_ok { "contiguous" } else { "NOT contiguous" },
                r.seats_taken,
                if exact { "only 201/429, capacity exact, within the deadline" } else { "WRONG" }
            );
        }
        db.close().await;
        anyhow::ensure!(ok, "a run did not give the exact expected result");
        Ok::<(), anyhow::Error>(())
    }
    .await;

    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut admin).await;
    let _ = std::fs::remove_dir_all(&mail_dir);
    result
}
