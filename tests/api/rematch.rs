//! A full rematch from the command line survives being killed mid-run: run again, it continues
//! after the last step it committed, and the banks' outbox ends up with exactly one `match.*`
//! event per match — none lost, none twice — as one uninterrupted run would leave it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;
use srdi_capital::db::Db;
use srdi_capital::db::row::RowExt;
use srdi_capital::domain::ids::BankId;

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

/// The matches and events of a batch larger than one statement travel in several JSON-parameter
/// chunks: every pair lands once with every field intact (negative and 64-bit fingerprints too),
/// a second write updates exactly the pairs it names, and a recorded fact is not recorded again
/// while new facts in the same batch are.
#[tokio::test]
async fn bulk_match_and_event_writes_keep_every_row_exactly_once() {
    use chrono::Utc;
    use srdi_capital::domain::events::EventKind;
    use srdi_capital::service::events::{NewEvent, Numbering, record_many};
    use srdi_capital::store::matches::{self, ChangeKind, MatchWrite};
    use uuid::Uuid;

    let (url, _guard) = fresh_database().await;
    let db = Db::connect(&url, 2).await.expect("database");
    db.migrate().await.expect("migrate");
    let n = 23_457usize; // over two chunks of the bulk writes
    let pair = |i: usize| {
        (
            srdi_capital::domain::ids::FirmId::from_uuid(Uuid::from_u128(i as u128 / 50 + 1)),
            Uuid::from_u128(1_000_000 + (i % 50) as u128),
        )
    };
    let write_of = |i: usize, kind: ChangeKind, version: i64| MatchWrite {
        firm_id: pair(i).0,
        product_id: pair(i).1,
        bank_id: BankId::from_uuid(Uuid::from_u128(7 + (i % 3) as u128)),
        kind,
        score: (i % 101) as u8,
        previous_score: None,
        met_bits: (i % 65_536) as u16,
        unmet_bits: (i * 7 % 65_536) as u16,
        fingerprint: (i as i64).wrapping_mul(0x5851_F42D_4C95_7F2D),
        version,
    };
    let rows = |db: &Db| {
        let db = db.clone();
        async move {
            let mut conn = db.pool().acquire().await.expect("connection");
            sqlx::query(
                "SELECT firm_id, product_id, bank_id, status, score, met_bits, unmet_bits, fingerprint, version, seq \
                 FROM matches",
            )
            .fetch_all(&mut *conn)
            .await
            .expect("matches")
            .iter()
            .map(|r| {
                let key = (r.uuid("firm_id").expect("f"), r.uuid("product_id").expect("p"));
                let value = (
                    r.uuid("bank_id").expect("b"),
                    r.text("status").expect("s"),
                    [r.int("score"), r.int("met_bits"), r.int("unmet_bits"), r.int("fingerprint"), r.int("version")]
                        .map(|v| v.expect("int")),
                    r.int("seq").expect("seq"),
                );
                (key, value)
            })
            .collect::<Vec<_>>()
        }
    };
    let expect = |w: &MatchWrite, seq: i64| {
        let status = if w.kind == ChangeKind::Withdrawn { "withdrawn" } else { "active" };
        let ints = [w.score.into(), w.met_bits.into(), w.unmet_bits.into(), w.fingerprint, w.version];
        ((w.firm_id.uuid(), w.product_id), (w.bank_id.uuid(), status.to_owned(), ints, seq))
    };

    let created: Vec<MatchWrite> = (0..n).map(|i| write_of(i, ChangeKind::Created, 1)).collect();
    let mut tx = db.begin().await.expect("begin");
    let first = matches::write(&mut tx, &created, Utc::now()).await.expect("write").expect("a seq");
    tx.commit().await.expect("commit");
    let stored = rows(&db).await;
    assert_eq!(stored.len(), n, "every pair written once");
    let stored: HashMap<_, _> = stored.into_iter().collect();
    assert_eq!(stored.len(), n, "no pair twice");
    for w in &created {
        let (k, v) = expect(w, first);
        assert_eq!(stored.get(&k), Some(&v), "pair {k:?} as written");
    }

    // Every third pair withdrawn: an upsert of exactly those rows.
    let changed: Vec<MatchWrite> = (0..n).step_by(3).map(|i| write_of(i, ChangeKind::Withdrawn, 2)).collect();
    let mut tx = db.begin().await.expect("begin");
    let second = matches::write(&mut tx, &changed, Utc::now()).await.expect("write").expect("a seq");
    tx.commit().await.expect("commit");
    assert!(second > first);
    let stored: HashMap<_, _> = rows(&db).await.into_iter().collect();
    assert_eq!(stored.len(), n, "an update adds no pair");
    for (i, w) in created.iter().enumerate() {
        let (k, v) = if i % 3 == 0 { expect(&changed[i / 3], second) } else { expect(w, first) };
        assert_eq!(stored.get(&k), Some(&v), "pair {i}");
    }

    // Events: the first batch is recorded whole; a batch repeating it plus new facts records only those.
    let event = |i: usize| {
        let (firm, product) = pair(i);
        NewEvent {
            numbering: Numbering::Unnumbered,
            ..NewEvent::fact(
                EventKind::MatchCreated,
                Some(firm),
                Some(BankId::from_uuid(Uuid::from_u128(7))),
                matches::fact_key(firm, product, 1),
                serde_json::json!({"firm_id": firm, "product_id": product, "note": "quote \" and 中文", "i": i}),
            )
        }
    };
    let mut tx = db.begin().await.expect("begin");
    let recorded = record_many(&mut tx, (0..n).map(event).collect(), Utc::now()).await.expect("record");
    tx.commit().await.expect("commit");
    assert_eq!(recorded.len(), n);
    let mut tx = db.begin().await.expect("begin");
    let again = record_many(&mut tx, (0..n + 5).map(event).collect(), Utc::now()).await.expect("record");
    tx.commit().await.expect("commit");
    let again: Vec<usize> = again.iter().map(|e| e.data["i"].as_u64().expect("i") as usize).collect();
    assert_eq!(again, (n..n + 5).collect::<Vec<_>>(), "only the new facts are recorded");
    let mut conn = db.pool().acquire().await.expect("connection");
    let stored: Vec<(String, Value)> = sqlx::query("SELECT id, payload FROM events WHERE event_type = 'match.created'")
        .fetch_all(&mut *conn)
        .await
        .expect("events")
        .iter()
        .map(|r| (r.text("id").expect("id"), r.json("payload").expect("payload")))
        .collect();
    assert_eq!(stored.len(), n + 5, "each fact once");
    let mut seen: Vec<u64> = stored.iter().map(|(_, p)| p["i"].as_u64().expect("i")).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..(n + 5) as u64).collect::<Vec<_>>(), "every fact, none twice");
    assert!(stored.iter().all(|(_, p)| p["note"] == "quote \" and 中文"), "payload text kept as written");
}
