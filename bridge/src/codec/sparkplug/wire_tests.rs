//! Our payloads read by an independent decoder: a protobuf wire-format reader
//! in plain Python (no generated code, no `protoc`), with the Sparkplug field
//! numbers typed in from the specification. If our `prost` tags or wire types
//! drifted from the schema, prost would still agree with itself; this would not.

use std::process::Command;

use serde_json::Value as Json;

use super::metrics::tests::{pump_message, scenario};
use super::proto::{MetricValue, Payload};
use super::{DeviceSchema, EdgeNode, Publish, decode_payload};

/// Reads hex-encoded `Payload`s from argv, prints each as one JSON line.
/// Strict: an unknown field, a wrong wire type, a repeated singular field, two
/// values in one metric or a truncated field is an error (exit 2).
const PY_DECODER: &str = include_str!("decode.py");

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs the Python reader on `payloads` (hex-encoded, one argument each).
fn run_python(payloads: &[&[u8]]) -> std::process::Output {
    Command::new("python3")
        .arg("-c")
        .arg(PY_DECODER)
        .args(payloads.iter().map(|p| hex(p)))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `python3` ({e}): the independent Sparkplug decoder test needs python3 on PATH \
                 (Debian: apt-get install python3)"
            )
        })
}

/// Decodes `payloads` with the Python reader; one JSON object each.
fn python_decode(payloads: &[&[u8]]) -> Vec<Json> {
    let out = run_python(payloads);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python decoder failed ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Json> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), payloads.len(), "{stdout}");
    lines
}

fn opt<T: Into<Json>>(v: Option<T>) -> Json {
    v.map_or(Json::Null, Into::into)
}

/// What the Python reader must print for `p`, field by field.
fn expected(p: &Payload) -> Json {
    let mut o = serde_json::Map::new();
    let mut put = |k: &str, v: Json| {
        if !v.is_null() {
            o.insert(k.to_string(), v);
        }
    };
    put("timestamp", opt(p.timestamp));
    put("seq", opt(p.seq));
    put("uuid", opt(p.uuid.clone()));
    put("body", opt(p.body.as_deref().map(hex)));
    let metrics: Vec<Json> = p
        .metrics
        .iter()
        .map(|m| {
            let mut o = serde_json::Map::new();
            let mut put = |k: &str, v: Json| {
                if !v.is_null() {
                    o.insert(k.to_string(), v);
                }
            };
            put("name", opt(m.name.clone()));
            put("alias", opt(m.alias));
            put("timestamp", opt(m.timestamp));
            put("datatype", opt(m.datatype));
            put("is_historical", opt(m.is_historical));
            put("is_transient", opt(m.is_transient));
            put("is_null", opt(m.is_null));
            match &m.value {
                None => {}
                Some(MetricValue::IntValue(v)) => put("int_value", (*v).into()),
                Some(MetricValue::LongValue(v)) => put("long_value", (*v).into()),
                Some(MetricValue::FloatValue(v)) => put("float_bits", v.to_bits().into()),
                Some(MetricValue::DoubleValue(v)) => put("double_bits", v.to_bits().into()),
                Some(MetricValue::BooleanValue(v)) => put("boolean_value", (*v).into()),
                Some(MetricValue::StringValue(v)) => put("string_value", v.clone().into()),
                Some(MetricValue::BytesValue(v)) => put("bytes_hex", hex(v).into()),
                Some(other) => panic!("fabtwin does not send {other:?}"),
            }
            Json::Object(o)
        })
        .collect();
    if !metrics.is_empty() {
        put("metrics", Json::Array(metrics));
    }
    Json::Object(o)
}

fn metric<'a>(j: &'a Json, name: &str) -> &'a Json {
    j["metrics"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("no metric {name} in {j}"))
}

/// A session's worth of messages: will, NBIRTH, DBIRTH, live and historical
/// DDATA, DDEATH.
fn session() -> Vec<Publish> {
    const T0: u64 = 1_767_247_200_000;
    let sc = scenario();
    let mut n = EdgeNode::new("plant1", "gw1").expect("valid");
    n.on_connect();
    n.on_connect(); // bdSeq 1
    let mut out = vec![n.will(), n.nbirth(T0).expect("connected")];
    let pump = DeviceSchema::for_machine(&sc.machines[0]).expect("valid");
    out.push(n.dbirth(&pump, T0).expect("born"));
    out.push(
        n.telemetry(&sc, &pump_message(5), false, T0 + 1)
            .expect("born"),
    );
    out.push(
        n.telemetry(&sc, &pump_message(u64::MAX - 1), true, T0 + 2)
            .expect("born"),
    );
    out.push(n.ddeath("pump01", T0 + 3).expect("born"));
    out
}

#[test]
fn python_reads_what_prost_wrote() {
    let msgs = session();
    let bytes: Vec<&[u8]> = msgs.iter().map(|m| m.payload.as_slice()).collect();
    let py = python_decode(&bytes);
    for (m, j) in msgs.iter().zip(&py) {
        let ours = decode_payload(&m.payload).expect("decodes");
        assert_eq!(*j, expected(&ours), "{}", m.topic);
    }
}

#[test]
fn python_sees_the_sparkplug_rules() {
    let msgs = session();
    let bytes: Vec<&[u8]> = msgs.iter().map(|m| m.payload.as_slice()).collect();
    let py = python_decode(&bytes);
    let [will, nbirth, dbirth, live, historical, ddeath] = &py[..] else {
        panic!("six messages: {py:?}")
    };

    // NDEATH: only bdSeq (Int64 = 4), no seq.
    assert_eq!(
        *will,
        serde_json::json!({"metrics": [{"name": "bdSeq", "datatype": 4, "long_value": 1}]})
    );
    // NBIRTH: seq 0, same bdSeq, Rebirth = false as Boolean (11).
    assert_eq!(nbirth["seq"], 0);
    assert_eq!(nbirth["timestamp"], 1_767_247_200_000u64);
    assert_eq!(metric(nbirth, "bdSeq")["long_value"], 1);
    assert_eq!(
        metric(nbirth, "Node Control/Rebirth")["boolean_value"],
        false
    );
    assert_eq!(metric(nbirth, "Node Control/Rebirth")["datatype"], 11);
    // DBIRTH: seq 1, every metric with a datatype and a timestamp.
    assert_eq!(dbirth["seq"], 1);
    for m in dbirth["metrics"].as_array().expect("metrics") {
        assert!(
            m["datatype"].is_u64() && m["timestamp"].is_u64() && m["name"].is_string(),
            "{m}"
        );
    }
    assert_eq!(metric(dbirth, "fabtwin/seq")["datatype"], 8);
    assert_eq!(metric(dbirth, "vib/x/rms_g")["datatype"], 9);
    assert_eq!(metric(dbirth, "vib/x/bands_g2")["datatype"], 30);
    assert_eq!(metric(dbirth, "status/level")["datatype"], 12);
    // DDATA: seq 2 then 3, fabtwin/seq as long_value, floats as IEEE bits, no datatype.
    assert_eq!(live["seq"], 2);
    assert_eq!(metric(live, "fabtwin/seq")["long_value"], 5);
    assert_eq!(metric(live, "vib/x/rms_g")["float_bits"], 0.1f32.to_bits());
    assert_eq!(
        metric(live, "vib/x/rms_g")["timestamp"],
        1_767_247_200_000u64 + 4_500_000 - 300_000
    );
    assert_eq!(metric(live, "status/level")["string_value"], "warning");
    assert_eq!(
        &metric(live, "vib/x/bands_g2")["bytes_hex"]
            .as_str()
            .expect("hex")[8..16],
        hex(&0.002f32.to_le_bytes())
    );
    assert!(
        live["metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .all(|m| m.get("datatype").is_none())
    );
    assert!(
        live["metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .all(|m| m.get("is_historical").is_none())
    );
    assert_eq!(historical["seq"], 3);
    assert_eq!(
        metric(historical, "fabtwin/seq")["long_value"],
        u64::MAX - 1
    );
    assert!(
        historical["metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .all(|m| m["is_historical"] == true)
    );
    // DDEATH: seq 4, no metrics.
    assert_eq!(
        *ddeath,
        serde_json::json!({"seq": 4, "timestamp": 1_767_247_200_003u64})
    );
}

#[test]
fn python_rejects_a_corrupted_payload() {
    // The reader is strict enough to notice a wire-type change: that is what
    // makes its agreement above worth something.
    let mut p = session().swap_remove(0).payload;
    assert_eq!(p[0], 0x12, "will starts with field 2 (metrics)");
    p[0] = 0x10; // field 2 as varint
    let out = run_python(&[&p]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("wire type"),
        "{out:?}"
    );
}
