//! A full rematch from the command line survives being killed mid-run: run again, it continues
//! after the last step it committed, and the banks' outbox ends up with exactly one `match.*`
//! event per match — none lost, none twice — as one uninterrupted run would leave it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;
use srdi_capital::db::Db;
use srdi_capital::db::row::RowExt;

use crate::helpers::fresh_database;

fn cli(url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_srdi-capital"));
    cmd.env("SRDI_DATABASE_URL", url).env("RUST_LOG", "info");
    cmd
}

fn succeed(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("run the command line");
    assert!(out.status.success(), "{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
    out
}

/// Every `match.*` event in the outbox as ((firm, product), kind), and every match as (firm, product) → active.
async fn outbox_and_matches(db: &Db) -> (Vec<((String, String), String)>, HashMap<(String, String), bool>) {
    let mut conn = db.pool().acquire().await.expect("connection");
    let events = sqlx::query("SELECT event_type, payload FROM events WHERE event_type LIKE 'match.%'")
        .fetch_all(&mut *conn)
        .await
        .expect("events")
        .iter()
        .map(|r| {
            let payload: Value = serde_json::from_str(&r.text("payload").expect("payload")).expect("json");
            let pair = (
                payload["firm_id"].as_str().expect("firm").to_owned(),
                payload["product_id"].as_str().expect("product").to_owned(),
            );
            (pair, r.text("event_type").expect("type"))
        })
        .collect();
    let matches = sqlx::query("SELECT firm_id, product_id, status FROM matches")
        .fetch_all(&mut *conn)
        .await
        .expect("matches")
        .iter()
        .map(|r| {
            (
                (r.text("firm_id").expect("f"), r.text("product_id").expect("p")),
                r.text("status").expect("s") == "active",
            )
        })
        .collect();
    (events, matches)
}

#[tokio::test]
async fn a_killed_rematch_resumes_without_losing_or_repeating_match_events() {
    let (url, _guard) = fresh_database().await;
    succeed(cli(&url).args(["seed", "--firms", "1200", "--products", "12"]));
    let db = Db::connect(&url, 2).await.expect("database");
    // Back to before the first rebuild: no match and no match event yet.
    {
        let mut conn = db.pool().acquire().await.expect("connection");
        sqlx::query("DELETE FROM matches").execute(&mut *conn).await.expect("clear matches");
        sqlx::query("DELETE FROM events WHERE event_type LIKE 'match.%'").execute(&mut *conn).await.expect("clear");
    }

    let mut first = cli(&url)
        .args(["rematch", "--step", "40"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the rematch");
    let mut lines = BufReader::new(first.stderr.take().expect("stderr")).lines();
    let progress = lines.by_ref().map_while(Result::ok).find(|l| l.contains("rematch progress"));
    assert!(progress.is_some(), "the rematch reports its progress on stderr");
    first.kill().expect("kill -9 the rematch");
    first.wait().expect("reap it");

    let (events, _) = outbox_and_matches(&db).await;
    let cursor = {
        let mut conn = db.pool().acquire().await.expect("connection");
        sqlx::query("SELECT value FROM match_state WHERE name = 'rematch_after'")
            .fetch_optional(&mut *conn)
            .await
            .expect("cursor")
            .map(|r| r.text("value").expect("value"))
            .unwrap_or_default()
    };
    assert!(!cursor.is_empty() && !events.is_empty(), "the kill landed mid-run, after some steps committed");

    let out = succeed(cli(&url).args(["rematch", "--step", "40"]));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    let resumed = report["resumed_after_firms"].as_u64().expect("resumed_after_firms");
    assert!(resumed > 0, "the second run continues where the first stopped: {report}");
    assert_eq!(resumed + report["firms"].as_u64().expect("firms"), 1200, "every firm evaluated once in all: {report}");

    // Exactly one event per match, each the creation of an active match: nothing lost, nothing twice.
    let (events, matches) = outbox_and_matches(&db).await;
    let pairs: HashSet<&(String, String)> = events.iter().map(|(pair, _)| pair).collect();
    assert_eq!(pairs.len(), events.len(), "a pair's event was recorded twice");
    assert!(events.iter().all(|(_, kind)| kind == "match.created"), "a cold rebuild only creates matches");
    let active: HashSet<&(String, String)> = matches.iter().filter(|(_, a)| **a).map(|(pair, _)| pair).collect();
    assert!(!active.is_empty(), "the synthetic firms match some products");
    assert_eq!(matches.len(), active.len(), "a cold rebuild writes only active matches");
    assert_eq!(pairs, active, "the outbox holds exactly one event per match");

    // And the result is what an uninterrupted run leaves: a fresh full run finds nothing to change.
    let out = succeed(cli(&url).arg("rematch"));
    let again: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(again["resumed_after_firms"], 0, "{again}");
    assert_eq!(again["firms"], 1200, "{again}");
    for counter in ["created", "updated", "withdrawn"] {
        assert_eq!(again[counter], 0, "{counter} after the resumed run: {again}");
    }
    assert_eq!(outbox_and_matches(&db).await.0.len(), events.len());
}
