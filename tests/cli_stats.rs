//! `redirects stats` against a stand-in of the Analytics Engine SQL API on loopback, answering
//! in the API's documented shape (`{"meta", "data", "rows", "rows_before_limit_at_least"}`):
//! golden outputs, the requests it sends (account, token, SQL), and its errors.

#[path = "cli/support.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use support::{golden, redirects};

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: String,
    sql: String,
}

/// Rows for the hits query: 64-bit counts come quoted, as the API sends them.
const HITS: &str = r#"{
  "meta": [{"name": "rule", "type": "String"}, {"name": "variant", "type": "String"}, {"name": "hits", "type": "UInt64"}],
  "data": [
    {"rule": "blog", "variant": "", "hits": "1204"},
    {"rule": "pricing-ab", "variant": "control", "hits": "310"},
    {"rule": "pricing-ab", "variant": "new", "hits": "295"},
    {"rule": "removed-rule", "variant": "", "hits": "3"}
  ],
  "rows": 4,
  "rows_before_limit_at_least": 4
}"#;

/// Rows for the 404 query (counts as plain numbers, also accepted).
const NOT_FOUND: &str = r#"{
  "meta": [{"name": "path", "type": "String"}, {"name": "hits", "type": "UInt64"}],
  "data": [
    {"path": "/blog/hello-world.html", "hits": 88},
    {"path": "/wp-login.php", "hits": 41}
  ],
  "rows": 2,
  "rows_before_limit_at_least": 2
}"#;

/// Serves `answer(sql) -> (status, body)` on 127.0.0.1 until the test ends; returns its base
/// URL and what it saw.
fn stand_in(answer: fn(&str) -> (u16, String)) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/client/v4", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split(' ').nth(1).unwrap_or_default().to_string();
            let (mut length, mut authorization) = (0, String::new());
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "authorization" => authorization = value.trim().to_string(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let sql = String::from_utf8(body).unwrap();
            let (status, text) = answer(&sql);
            log.lock().unwrap().push(Seen {
                path,
                authorization,
                sql,
            });
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    (base, seen)
}

fn documented(sql: &str) -> (u16, String) {
    if sql.contains("blob1 = 'rule'") {
        (200, HITS.to_string())
    } else {
        (200, NOT_FOUND.to_string())
    }
}

fn stats(base: &str, args: &[&str]) -> (i32, String, String) {
    let out = redirects()
        .arg("stats")
        .args(args)
        .env("CLOUDFLARE_ACCOUNT_ID", "0123abcd")
        .env("CLOUDFLARE_API_TOKEN", "secret-token")
        .env("CLOUDFLARE_API_BASE_URL", base)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn hits_per_rule_rules_without_hits_and_top_404s() {
    let (base, seen) = stand_in(documented);
    let (code, out, err) = stats(
        &base,
        &["tests/cli/stats/rules.json", "--since", "24h", "--top", "5"],
    );
    assert_eq!(code, 0, "{err}");
    golden("stats.txt", &out);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one query for hits, one for 404s");
    for s in &seen {
        assert_eq!(s.path, "/client/v4/accounts/0123abcd/analytics_engine/sql");
        assert_eq!(s.authorization, "Bearer secret-token");
        assert!(s.sql.contains("FROM redirect_hits"), "{}", s.sql);
        assert!(
            s.sql.contains("timestamp > NOW() - INTERVAL '24' HOUR"),
            "{}",
            s.sql
        );
    }
    assert!(seen[1].sql.ends_with("LIMIT 5"), "{}", seen[1].sql);
}

#[test]
fn json_for_scripts() {
    let (base, _) = stand_in(documented);
    let (code, out, err) = stats(
        &base,
        &[
            "tests/cli/stats/rules.json",
            "--json",
            "--dataset",
            "hits_eu",
        ],
    );
    assert_eq!(code, 0, "{err}");
    golden("stats.json", &out);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["no_hits"],
        serde_json::json!(["contact-prg", "old-press", "old-jobs"])
    );
    assert_eq!(v["rules"][1]["variants"]["new"], 295);
}

#[test]
fn errors_of_the_api_and_of_the_environment() {
    let (base, _) = stand_in(|_| (400, "{\"errors\":[{\"message\":\"unknown table\"}]}".into()));
    let (code, _, err) = stats(&base, &["tests/cli/stats/rules.json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("the SQL API answered 400") && err.contains("unknown table"),
        "{err}"
    );

    let (base, _) = stand_in(|_| (200, "{\"rows\": 0}".into()));
    let (code, _, err) = stats(&base, &["tests/cli/stats/rules.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("no `data` array"), "{err}");

    let out = redirects()
        .args(["stats", "tests/cli/stats/rules.json"])
        .env_remove("CLOUDFLARE_API_TOKEN")
        .env("CLOUDFLARE_ACCOUNT_ID", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CLOUDFLARE_API_TOKEN is not set"));

    for bad in [["--since", "7 days"], ["--dataset", "x; DROP"]] {
        let (code, _, err) = stats(
            "http://127.0.0.1:9",
            &[bad[0], bad[1], "tests/cli/stats/rules.json"],
        );
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
}

#[test]
fn the_readme_shows_the_sql_it_runs() {
    let (base, seen) = stand_in(documented);
    let (code, _, err) = stats(&base, &["tests/cli/stats/rules.json"]);
    assert_eq!(code, 0, "{err}");
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    for s in seen.lock().unwrap().iter() {
        assert!(
            readme.contains(&s.sql),
            "README.md lacks the query:\n{}",
            s.sql
        );
    }
}
