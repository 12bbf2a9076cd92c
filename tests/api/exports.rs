//! Every CSV the service writes is safe to open in a spreadsheet: firms imported with names that
//! spreadsheets evaluate come back as text in the reserve-pool export and in the matches CSV of a
//! bank and of the office, and plain numbers stay numbers.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::financing::{bank, consent_all, drain, publish, srdi_product};
use crate::helpers::*;

const HOSTILE: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example\",\"点击\")",
    "+cmd|' /C calc'!A0",
    "-1+1有限公司",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
];

async fn csv_rows(app: &TestApp, path: &str, key: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let resp = app.req(Method::GET, path, Some(key)).header("Accept", "text/csv").send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    let text = resp.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    (header, reader.records().collect::<Result<_, _>>().expect("csv parses"))
}

fn column(header: &csv::StringRecord, name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
}

/// No cell of the file starts like a formula, unless it is a plain number.
fn assert_inert(path: &str, rows: &[csv::StringRecord]) {
    for row in rows {
        for cell in row {
            let number = cell.trim_start_matches(['-', '+']).parse::<f64>().is_ok_and(|_| !cell.contains(['e', 'E']));
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']) || number, "{path}: live cell {cell:?}");
        }
    }
}

#[tokio::test]
async fn formula_cells_are_neutralised_in_every_csv_export() {
    let app = spawn_app().await;
    let mut csv = String::from("credit_code,name,city,industry_code,tier,founded_on,fiscal_year,revenue,net_profit\n");
    for (i, name) in HOSTILE.iter().enumerate() {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        csv.push_str(&format!(
            "{},{quoted},jinan,C3562,provincial_srdi,2012-05-18,2024,80000000,-1500000.50\n",
            code(i + 1)
        ));
    }
    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
    let report: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(report["created"], HOSTILE.len(), "{report}");
    let firms: serde_json::Value = app.get("/v1/firms?limit=50", &app.admin_key).await.json().await.expect("json");
    let mut stored: Vec<String> = firms["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect();
    for f in firms["items"].as_array().expect("items") {
        let resp = app
            .post_json(
                "/v1/reserve-pool",
                &app.admin_key,
                &json!({"firm_id": f["id"], "target_venue": "bse", "note": f["name"]}),
            )
            .await;
        assert!(resp.status().is_success(), "admit");
        consent_all(&app, f["id"].as_str().expect("id").parse().expect("uuid")).await;
    }
    let (_, bank_key) = bank(&app, "QILU").await;
    publish(&app, &bank_key, &srdi_product("=专精特新贷", "1000000")).await;
    drain(&app).await;

    // What a spreadsheet shows is the name exactly as registered, as text.
    let expected = |name: &str| format!("'{name}");
    stored.sort();
    let (header, pool) = csv_rows(&app, "/v1/reserve-pool", &app.admin_key).await;
    assert_inert("pool", &pool);
    let mut names: Vec<String> = pool.iter().map(|r| r[column(&header, "name")].to_owned()).collect();
    names.sort();
    let mut want: Vec<String> = stored.iter().map(|n| expected(n)).collect();
    want.sort();
    assert_eq!(names, want);
    assert!(pool.iter().all(|r| r[column(&header, "note")].starts_with('\'')));

    for (who, key) in [("bank", bank_key.as_str()), ("office", app.admin_key.as_str())] {
        let (header, rows) = csv_rows(&app, "/v1/matches", key).await;
        assert_eq!(rows.len(), HOSTILE.len(), "{who}");
        assert_inert(who, &rows);
        for row in &rows {
            assert!(row[column(&header, "name")].starts_with('\''), "{who}");
            assert_eq!(&row[column(&header, "product_name")], "'=专精特新贷", "{who}");
            assert_eq!(&row[column(&header, "revenue")], "80000000.00", "{who}");
        }
    }

    // The programme statistics, whose figures may be negative.
    let resp = app.get("/v1/stats/programme", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, stats) = csv_rows(&app, "/v1/stats/programme", &app.admin_key).await;
    assert_inert("stats", &stats);
}
