use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const HEADER: &str = "credit_code,name,city,industry_code,tier,fiscal_year,revenue,net_profit,net_profit_deducted,rd_expense,invention_patents,employees,rd_staff";

fn csv_of(rows: &[String]) -> String {
    let mut s = String::from("\u{feff}");
    s.push_str(HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

async fn import(app: &TestApp, body: String, dry_run: bool) -> (StatusCode, Value) {
    let path = if dry_run { "/v1/firms/import?dry_run=true" } else { "/v1/firms/import" };
    let resp = app
        .req(Method::POST, path, Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("req");
    let status = resp.status();
    (status, resp.json().await.expect("json"))
}

async fn firm_count(app: &TestApp) -> usize {
    let v: Value = app.get("/v1/firms?limit=500", &app.admin_key).await.json().await.expect("json");
    v["items"].as_array().expect("items").len()
}

fn good_rows() -> Vec<String> {
    vec![
        format!("{},甲有限公司,jinan,C3562,little_giant,2023,100000000.00,9000000,8500000,6000000,20,300,60", code(1)),
        format!("{},甲有限公司,jinan,C3562,little_giant,2024,120000000.00,9500000,9000000,7000000,22,320,64", code(1)),
        format!("{},乙有限公司,青岛,C2710,,2024,50000000,1000000,900000,2000000,3,80,10", code(2)),
        format!("{},丙有限公司,,I6513,innovative_sme,,,,,,,,", code(3)),
    ]
}

#[tokio::test]
async fn mixed_good_and_bad_rows_report_each_rejection() {
    let app = spawn_app().await;
    let mut rows = good_rows();
    rows.push(format!("{},丁有限公司,beijing,C35,,2024,abc,1,1,1,x,1,1", code(4))); // row 6
    rows.push("91350100M000100Y44,戊有限公司,jinan,C35,,,,,,,,,".into()); // row 7
    rows.push(format!("{},甲有限公司改名,jinan,C3562,little_giant,2022,1,1,1,1,1,1,1", code(1))); // row 8: conflicts with row 2
    rows.push(format!("{},己有限公司,jinan,C35,,2024,1.001,1,1,1,1,5,9", code(5))); // row 9
    let (status, report) = import(&app, csv_of(&rows), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["rows"], 8);
    // Row 8 is bad, so 甲 (rows 2, 3 and 8) falls whole: a firm's rows are imported together.
    assert_eq!(report["created"], 2);
    assert_eq!(report["rejected"], 6);
    assert_eq!(report["financial_years_written"], 1);
    let errors = report["errors"].as_array().expect("errors");
    let has = |row: u64, field: &str| errors.iter().any(|e| e["row"] == row && e["field"] == field);
    assert!(has(6, "city") && has(6, "invention_patents") && has(6, "financials.2024.revenue"), "{errors:?}");
    assert!(has(7, "credit_code"), "{errors:?}");
    assert!(has(8, "name"), "{errors:?}");
    assert!(has(9, "financials.2024.revenue") && has(9, "financials.2024.rd_staff"), "{errors:?}");
    let fallen = |row: u64| errors.iter().any(|e| e["row"] == row && e["code"] == "firm_rejected");
    assert!(fallen(2) && fallen(3), "{errors:?}");
    assert_eq!(firm_count(&app).await, 2);

    // The good rows: 甲 arrives, nothing else changes; a changed figure updates that firm only.
    let (_, report) = import(&app, csv_of(&good_rows()), false).await;
    assert_eq!(
        (report["created"].as_u64(), report["updated"].as_u64(), report["unchanged"].as_u64()),
        (Some(1), Some(0), Some(2))
    );
    let mut changed = good_rows();
    changed[2] = changed[2].replace("50000000,", "51000000,");
    let (_, report) = import(&app, csv_of(&changed), false).await;
    assert_eq!(
        (report["created"].as_u64(), report["updated"].as_u64(), report["unchanged"].as_u64()),
        (Some(0), Some(1), Some(2))
    );
    let firms: Value = app.get("/v1/firms?city=qingdao", &app.admin_key).await.json().await.expect("json");
    let id = firms["items"][0]["id"].as_str().expect("id");
    let fin: Value = app.get(&format!("/v1/firms/{id}/financials"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(fin["items"][0]["revenue"], "51000000.00");
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let app = spawn_app().await;
    let (status, report) = import(&app, csv_of(&good_rows()), true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["created"], 3);
    assert_eq!(firm_count(&app).await, 0);
}

#[tokio::test]
async fn json_import_and_header_problems() {
    let app = spawn_app().await;
    let body = json!([
        {"credit_code": code(1), "name": "甲", "city": "zibo", "industry_code": "C26",
         "financials": [{"fiscal_year": 2024, "revenue": "10.00"}, {"fiscal_year": 2023, "revenue": "9.00"}]},
        {"credit_code": code(2), "name": "乙", "industry_code": "C26", "bogus": 1},
        {"credit_code": code(3), "name": "丙", "industry_code": "C26", "financials": [{"fiscal_year": 2024, "revenue": 10}]}
    ]);
    let resp = app.req(Method::POST, "/v1/firms/import", Some(&app.admin_key)).json(&body).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::OK);
    let report: Value = resp.json().await.expect("json");
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["rejected"], 2);
    assert_eq!(report["financial_years_written"], 2);

    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body("credit_code,name,colour\n")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("e").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert_eq!(fields, ["columns.colour", "columns.industry_code"]);
    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "application/xml")
        .body("<a/>")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// A failure inside the database part-way through the import leaves nothing behind.
#[tokio::test]
async fn a_database_failure_leaves_nothing_half_written() {
    let app = spawn_app().await;
    let trigger = if backend() == "postgres" {
        vec![
            "CREATE FUNCTION refuse_2001() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by test trigger'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON financials FOR EACH ROW WHEN (NEW.fiscal_year = 2001) EXECUTE FUNCTION refuse_2001()",
        ]
    } else {
        vec![
            "CREATE TRIGGER refuse BEFORE INSERT ON financials WHEN NEW.fiscal_year = 2001 BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END",
        ]
    };
    for sql in trigger {
        sqlx::query(sql).execute(app.db.pool()).await.expect("install trigger");
    }
    let mut rows = good_rows();
    rows.push(format!("{},庚有限公司,jinan,C35,,2001,1,1,1,1,1,1,1", code(7)));
    let (status, body) = import(&app, csv_of(&rows), false).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.to_string().contains("refused by test trigger"), "internals must not leak: {body}");
    assert_eq!(firm_count(&app).await, 0);
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(app.db.pool()).await.expect("count");
    assert_eq!(events, 0);
}

/// The synthetic population written as CSV (what `seed --csv` produces) imports without a rejected row.
#[tokio::test]
async fn seed_csv_round_trips_through_import() {
    let app = spawn_app().await;
    let rows = srdi_capital::seed::synthetic_rows(40, 11, chrono::Utc::now().date_naive());
    let mut buf = Vec::new();
    srdi_capital::seed::write_csv(&rows, &mut buf).expect("csv");
    let (status, report) = import(&app, String::from_utf8(buf).expect("utf8"), false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["created"], 40, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    assert_eq!(report["financial_years_written"], 120);
}

async fn import_raw(app: &TestApp, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.req(Method::POST, path, Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("req")
}

/// A firm whose 2024 row is bad is not stored with 2023 and 2025 alone; `atomic=true` refuses
/// the whole file instead.
#[tokio::test]
async fn a_firms_rows_stand_or_fall_together_and_atomic_refuses_the_file() {
    let app = spawn_app().await;
    let rows = vec![
        format!("{},甲有限公司,jinan,C3562,little_giant,2023,100000000.00,9000000,8500000,6000000,20,300,60", code(1)),
        format!("{},甲有限公司,jinan,C3562,little_giant,2024,not-a-number,9500000,9000000,7000000,22,320,64", code(1)),
        format!("{},甲有限公司,jinan,C3562,little_giant,2025,130000000.00,9500000,9000000,7000000,22,320,64", code(1)),
        format!("{},乙有限公司,青岛,C2710,,2024,50000000,1000000,900000,2000000,3,80,10", code(2)),
    ];
    let resp = import_raw(&app, "/v1/firms/import?atomic=true", csv_of(&rows).into_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("e").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert!(fields.contains(&"rows.3.financials.2024.revenue"), "{fields:?}");
    assert_eq!(firm_count(&app).await, 0, "an atomic import that fails writes nothing");

    let (status, report) = import(&app, csv_of(&rows), false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((report["created"].as_u64(), report["rejected"].as_u64()), (Some(1), Some(3)), "{report}");
    let firms: Value = app.get("/v1/firms", &app.admin_key).await.json().await.expect("json");
    let names: Vec<&str> =
        firms["items"].as_array().expect("items").iter().map(|f| f["name"].as_str().expect("n")).collect();
    assert_eq!(names, ["乙有限公司"]);
    let resp = import_raw(&app, "/v1/firms/import?atomic=true", csv_of(&rows[3..]).into_bytes()).await;
    assert_eq!(resp.status(), StatusCode::OK, "a clean file imports atomically");
}

#[tokio::test]
async fn a_gbk_file_and_a_duplicated_column_are_refused_whole() {
    let app = spawn_app().await;
    // "甲有限公司" in GBK, as Excel saves CSV on Chinese Windows.
    let mut gbk = format!("credit_code,name,industry_code\n{},", code(1)).into_bytes();
    gbk.extend([0xBC, 0xD7, 0xD3, 0xD0, 0xCF, 0xDE, 0xB9, 0xAB, 0xCB, 0xBE]);
    gbk.extend(b",C3562\n");
    let resp = import_raw(&app, "/v1/firms/import", gbk).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let p = problem(resp).await;
    assert_eq!(p["code"], "unsupported_encoding");
    assert!(p["detail"].as_str().expect("detail").contains("GBK"), "{p}");

    let dup = format!("credit_code,name,industry_code,name\n{},甲有限公司,C3562,乙有限公司\n", code(1));
    let resp = import_raw(&app, "/v1/firms/import", dup.into_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    assert_eq!(p["errors"][0]["field"], "columns.name");
    assert_eq!(p["errors"][0]["code"], "duplicate");
    assert_eq!(firm_count(&app).await, 0);

    // A column name with a control character is named by position, never repeated.
    let nul = format!("credit_code,name,industry_code,no\u{0}te\n{},甲有限公司,C3562,x\n", code(1));
    let resp = import_raw(&app, "/v1/firms/import", nul.into_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = resp.text().await.expect("body");
    assert!(!text.contains("\\u0000") && !text.contains('\u{0}'), "{text}");
    let p: serde_json::Value = serde_json::from_str(&text).expect("problem");
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("columns[4]"), Some("invalid_character"))
    );
    assert_eq!(firm_count(&app).await, 0);
}

/// The `import` command exits non-zero when it rejected rows, so a script cannot take a partial
/// import for a clean one.
#[tokio::test]
async fn the_import_command_fails_when_rows_are_rejected() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let run = |rows: Vec<String>, name: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, csv_of(&rows)).expect("write");
        std::process::Command::new(env!("CARGO_BIN_EXE_srdi-capital"))
            .arg("import")
            .arg(&path)
            .env("SRDI_DATABASE_URL", &app.database_url)
            .output()
            .expect("run import")
    };
    let mut bad = good_rows();
    bad.push(format!("{},丁有限公司,beijing,C35,,,,,,,,,", code(4)));
    let out = run(bad, "bad.csv");
    assert!(!out.status.success(), "rejected rows must fail the command");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 of 5 rows rejected"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report on stdout");
    assert_eq!(report["created"], 3);
    let out = run(good_rows(), "good.csv");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
