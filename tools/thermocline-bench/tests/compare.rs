//! `thermocline-bench compare --quick`, shrunk to a small dataset and short rounds, with the
//! thermocline-server this workspace built and Debian's redis-server: the report, its JSON and
//! its charts are written and well formed. Nothing here looks at speed.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn a_quick_comparison_writes_its_report_json_and_charts() {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_thermocline-bench"));
    let server = bench.with_file_name("thermocline-server");
    assert!(server.exists(), "{} not built", server.display());
    let out = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut args = vec![
        "compare".to_string(),
        "--quick".into(),
        "--keys".into(),
        "30000".into(),
        "--value-size".into(),
        "4096".into(),
        "--duration".into(),
        "0.2".into(),
        "--thermocline".into(),
        server.to_string_lossy().into_owned(),
        "--out".into(),
        out.path().to_string_lossy().into_owned(),
        "--data-dir".into(),
        data.path().to_string_lossy().into_owned(),
    ];
    let redis = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok();
    if !redis {
        args.push("--no-redis".into());
    }
    let run = Command::new(&bench).args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}{stderr}");

    let mut files: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let md = files
        .iter()
        .find(|f| f.ends_with(".md"))
        .expect("a Markdown report");
    let json = files
        .iter()
        .find(|f| f.ends_with(".json"))
        .expect("a JSON report");
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".svg")).count(),
        4,
        "{files:?}"
    );
    assert!(
        stdout.contains(md.as_str()),
        "the report's path is printed: {stdout}"
    );

    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join(json)).unwrap()).unwrap();
    let d = &c["datasets"][0];
    assert_eq!(d["keys"], 30000);
    assert_eq!(d["value_size"], 4096);
    assert!(d["dataset_bytes"].as_u64().unwrap() > 30000 * 4096);
    let servers = d["servers"].as_array().unwrap();
    let names: Vec<&str> = servers
        .iter()
        .map(|s| s["server"].as_str().unwrap())
        .collect();
    let mut expected = vec!["pure-memory", "hybrid 100%", "hybrid 10%"];
    if redis {
        expected.insert(1, "redis");
    }
    assert_eq!(names, expected);
    let workloads: Vec<&str> = c["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(workloads.len(), 3);
    for s in servers {
        assert!(s["error"].is_null(), "{s}");
        assert!(s["rss_after"].as_u64().unwrap() > 0, "{s}");
        assert_eq!(s["rss_during_load"].as_array().unwrap().len(), 4);
        for w in &workloads {
            let r = &s["results"][w];
            assert!(r["total"]["requests"].as_u64().unwrap() > 0, "{w}: {s}");
            assert_eq!(r["wrong"], 0);
            assert_eq!(r["missing"], 0);
        }
    }
    // The hybrid server at 10% holds most values in RocksDB.
    let cold: u64 = servers[names.len() - 1]["tiering"]["cold_keys"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(cold > 20000, "cold keys {cold}");

    let text = std::fs::read_to_string(out.path().join(md)).unwrap();
    for part in [
        "## 30000 keys of 4096 bytes",
        "| workload |",
        "GET uniform P1",
        "Goals",
        ".svg)",
    ] {
        assert!(text.contains(part), "{part} in:\n{text}");
    }
    for svg in files.iter().filter(|f| f.ends_with(".svg")) {
        let body = std::fs::read_to_string(out.path().join(svg)).unwrap();
        assert!(body.starts_with("<svg") && body.contains("</svg>"), "{svg}");
    }

    // The report and charts are made again from the JSON alone, the same.
    let again = tempfile::tempdir().unwrap();
    let run = Command::new(&bench)
        .args(["compare", "--from-json"])
        .arg(out.path().join(json))
        .arg("--out")
        .arg(again.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(again.path().join(md)).unwrap(),
        text,
        "the report made from the JSON"
    );
    let charts = std::fs::read_dir(again.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "svg")
        })
        .count();
    assert_eq!(charts, 4);
}
