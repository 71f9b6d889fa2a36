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
const PY_DECODER: &str = r#"
import json, struct, sys

def varint(b, i):
    v, shift = 0, 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint at byte %d" % i)
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")

def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("field %d: wire type %d" % (num, wt))
        if i > len(b):
            raise ValueError("field %d runs past the end" % num)
        yield num, wt, v

# Sparkplug B (tahu sparkplug_b.proto): number -> (name, wire type, kind)
PAYLOAD = {1: ("timestamp", 0, "uint"), 2: ("metrics", 2, "metric"), 3: ("seq", 0, "uint"),
           4: ("uuid", 2, "string"), 5: ("body", 2, "bytes")}
METRIC = {1: ("name", 2, "string"), 2: ("alias", 0, "uint"), 3: ("timestamp", 0, "uint"),
          4: ("datatype", 0, "uint"), 5: ("is_historical", 0, "bool"), 6: ("is_transient", 0, "bool"),
          7: ("is_null", 0, "bool"), 10: ("int_value", 0, "uint"), 11: ("long_value", 0, "uint"),
          12: ("float_bits", 5, "f32"), 13: ("double_bits", 1, "f64"), 14: ("boolean_value", 0, "bool"),
          15: ("string_value", 2, "string"), 16: ("bytes_hex", 2, "bytes")}
ONEOF = {"int_value", "long_value", "float_bits", "double_bits", "boolean_value", "string_value", "bytes_hex"}

def value(kind, v):
    if kind == "uint":
        return v
    if kind == "bool":
        if v not in (0, 1):
            raise ValueError("bool encoded as %d" % v)
        return v == 1
    if kind == "string":
        return v.decode("utf-8")
    if kind == "bytes":
        return v.hex()
    if kind == "f32":
        return struct.unpack("<I", v)[0]
    if kind == "f64":
        return struct.unpack("<Q", v)[0]
    if kind == "metric":
        m = message(v, METRIC)
        if len(ONEOF & set(m)) > 1:
            raise ValueError("metric %r has two values" % m)
        return m
    raise ValueError(kind)

def message(b, schema):
    out = {}
    for num, wt, v in fields(b):
        if num not in schema:
            raise ValueError("unexpected field %d" % num)
        name, want, kind = schema[num]
        if wt != want:
            raise ValueError("field %d (%s): wire type %d, expected %d" % (num, name, wt, want))
        if kind == "metric":
            out.setdefault(name, []).append(value(kind, v))
        elif name in out:
            raise ValueError("field %d (%s) appears twice" % (num, name))
        else:
            out[name] = value(kind, v)
    return out

try:
    for h in sys.argv[1:]:
        print(json.dumps(message(bytes.fromhex(h), PAYLOAD), sort_keys=True))
except ValueError as e:
    print("error: %s" % e)
    sys.exit(2)
"#;

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
