//! The dataset card: `dataset.json` for programs and `README.md` for people,
//! both from the same facts, written after every table so that a card means
//! the dataset is complete.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use fabtwin_sim::sensors::Measures;

use super::columns::COLUMNS;
use super::raw::{self, RAW_COLUMNS};
use super::{Counts, DatasetError, RunSummary, Settings, split, write};

/// Label definitions, as they appear in the card.
pub const LABELS: &[(&str, &str)] = &[
    (
        "health",
        "healthy: no machine fault mode active; degrading: a mode is active below its failure threshold (severity < 1); failed: a mode has reached severity 1, or the machine's realised failure time has passed",
    ),
    (
        "fault_mode",
        "none, or the active machine fault mode with the highest severity: bearing_outer, bearing_inner, imbalance, misalignment, looseness, overheating",
    ),
    (
        "severity",
        "severity of fault_mode: 0 none, 1 the failure threshold",
    ),
    (
        "onset_ns",
        "when fault_mode began (degradation onset, or the start of an injected fault)",
    ),
    (
        "failure_ns",
        "the machine's realised failure time: the first crossing of severity 1 by any sampled-ahead degradation path, or the start of an injected fault at severity ≥ 1; known beyond the run's end up to a look-ahead horizon",
    ),
    (
        "rul_s",
        "remaining useful life: failure_ns − ts_ns in seconds, 0 once failed",
    ),
    (
        "censored",
        "true when the machine does not fail before the run ends (right-censored: failure_ns, if given, lies past the end)",
    ),
    (
        "sensor_fault",
        "the sensor fault active in the window (stuck_at, drift, bias, gain, spikes, noise, dropout, saturation): the sensor misreports, the machine may be healthy",
    ),
    ("faulty_sensor", "id of the sensor at fault"),
    (
        "sensor_at_fault",
        "true while a sensor (not the machine) is at fault; its features are then unreliable",
    ),
];

fn counts_json(c: &Counts) -> Value {
    json!({
        "rows": c.rows,
        "health": c.health,
        "fault_mode": c.fault_mode,
        "sensor_fault": c.sensor_fault,
        "failures": c.failures,
    })
}

/// The machine-readable card.
pub fn card_json(settings: &Settings, runs: &[RunSummary]) -> Value {
    let (train, test) = split(settings.nominal.seed, settings.runs, settings.test_fraction);
    let mut all = Counts::default();
    let mut train_c = Counts::default();
    let mut test_c = Counts::default();
    for r in runs {
        all.add(&r.counts);
        if test.contains(&r.run) {
            test_c.add(&r.counts);
        } else {
            train_c.add(&r.counts);
        }
    }
    let v = &settings.variation;
    let mut card = json!({
        "fabtwin_version": settings.version,
        "scenario": settings.scenario_file,
        "scenario_name": settings.nominal.name,
        "scenario_sha256": settings.scenario_sha256,
        "seed": settings.nominal.seed,
        "runs": settings.runs,
        "run_seeds": runs.iter().map(|r| json!({"run": r.run, "seed": r.seed})).collect::<Vec<_>>(),
        "fidelity": settings.fidelity.name(),
        "format": settings.format.name(),
        "layout": format!("features/run=NNNN/machine=ID/part-00000.{}", settings.format.extension()),
        "partitioning": {"style": "hive", "keys": [
            {"name": "run", "type": "int", "description": "Monte-Carlo run, zero-padded to 4 digits in the path"},
            {"name": "machine", "type": "utf8", "description": "machine id from the scenario"},
        ]},
        "machines": settings.nominal.machines.iter().map(|m| json!({
            "id": m.id, "kind": format!("{:?}", m.kind), "rated_speed_rpm": m.rated_speed_rpm,
            "rated_power_kw": m.rated_power_kw,
        })).collect::<Vec<_>>(),
        "acquisition_interval_s": settings.nominal.acquisition_interval.as_secs_f64(),
        "duration_s": settings.nominal.duration.as_secs_f64(),
        "split": {"by": "run", "test_fraction": settings.test_fraction, "train": train, "test": test},
        "variation": {
            "bearing_diameter_cv": v.bearing_diameter_cv,
            "contact_angle_sd_deg": v.contact_angle_sd_deg,
            "speed_cv": v.speed_cv,
            "load_cv": v.load_cv,
            "load_time_cv": v.load_time_cv,
            "onset_cv": v.onset_cv,
            "growth_cv": v.growth_cv,
            "ambient_sd_c": v.ambient_sd_c,
        },
        "columns": COLUMNS.iter().map(|c| json!({
            "name": c.name, "type": c.ty.name(), "nullable": c.nullable, "unit": c.unit,
            "description": c.description, "label": c.label,
        })).collect::<Vec<_>>(),
        "labels": LABELS.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "class_balance": {"all": counts_json(&all), "train": counts_json(&train_c), "test": counts_json(&test_c)},
        "rows": all.rows,
        "files": runs.iter().flat_map(|r| r.files.iter().map(|(p, n)| json!({"path": p, "rows": n}))).collect::<Vec<_>>(),
    });
    if settings.raw_windows {
        card["raw"] = raw_json(settings, runs);
    }
    card
}

/// The card's section on the raw acquisition windows table.
fn raw_json(settings: &Settings, runs: &[RunSummary]) -> Value {
    let sc = &settings.nominal;
    json!({
        "layout": "raw/run=NNNN/machine=ID/part-00000.parquet",
        "row": "one per (sensor, window) of the machine, in window then sensor order",
        "key": ["run", "machine", "sensor", "window"],
        "join": "a raw row belongs to the feature row with the same run, machine and ts_ns (the window's start)",
        "sensors": sc.machines.iter().map(|m| json!({
            "machine": m.id,
            "sensors": m.sensors.iter().map(|s| json!({
                "id": s.id, "part": s.part.spec().name, "odr_hz": s.odr_hz,
                "unit": raw::unit(s.part.spec().measures),
                "samples_per_window": samples_per_window(settings, s),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "columns": RAW_COLUMNS.iter().map(|c| json!({
            "name": c.name, "type": c.ty, "nullable": c.nullable, "unit": c.unit,
            "description": c.description,
        })).collect::<Vec<_>>(),
        "rows": runs.iter().flat_map(|r| &r.raw_files).map(|(_, n)| n).sum::<u64>(),
        "files": runs.iter().flat_map(|r| r.raw_files.iter().map(|(p, n)| json!({"path": p, "rows": n}))).collect::<Vec<_>>(),
    })
}

/// Samples one window of sensor `s` holds per channel: the scenario's window
/// for accelerometers, up to one second (at least 256 samples) for
/// microphones, one reading for slow sensors.
pub fn samples_per_window(settings: &Settings, s: &fabtwin_sim::scenario::Sensor) -> u64 {
    let n = settings.nominal.window_samples as u64;
    match s.part.spec().measures {
        Measures::Vibration => n,
        Measures::Sound => n.min(s.odr_hz as u64).max(256),
        _ => 1,
    }
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "0.0 %".into()
    } else {
        format!("{:.1} %", 100.0 * n as f64 / of as f64)
    }
}

/// The human card.
pub fn readme(settings: &Settings, card: &Value) -> String {
    let mut s = String::new();
    let sc = &settings.nominal;
    let ext = settings.format.extension();
    let _ = writeln!(s, "# Dataset: {} ({} runs)\n", sc.name, settings.runs);
    let _ = writeln!(
        s,
        "Generated by `fabtwin dataset` {} from `{}` (sha256 `{}`), seed {}, fidelity `{}`, format `{}`.\n",
        settings.version,
        settings.scenario_file,
        settings.scenario_sha256,
        sc.seed,
        settings.fidelity.name(),
        settings.format.name()
    );
    if !sc.description.is_empty() {
        let _ = writeln!(s, "{}\n", sc.description);
    }
    let _ = writeln!(
        s,
        "{} machines, {} of simulated time per run, one row per machine per acquisition window ({} s apart). \
         Each run draws its own unit-to-unit variation (bearing geometry, speed, load level and timing, \
         onsets, growth rates, ambient) from its seed; see `variation` in `dataset.json`.\n",
        sc.machines.len(),
        sc.duration,
        sc.acquisition_interval.as_secs_f64()
    );
    let _ = writeln!(s, "## Layout\n");
    let _ = writeln!(
        s,
        "`features/run=NNNN/machine=ID/part-00000.{ext}`: Hive partitions; `run` and `machine` live only in the path.\n"
    );
    if settings.raw_windows {
        raw_readme(&mut s, settings);
    }
    let _ = writeln!(s, "## Split\n");
    let _ = writeln!(
        s,
        "By run, never by row. Train runs: {}. Test runs: {}.\n",
        card["split"]["train"], card["split"]["test"]
    );
    let _ = writeln!(s, "## Columns\n");
    let _ = writeln!(
        s,
        "| name | type | unit | description |\n| --- | --- | --- | --- |"
    );
    for c in COLUMNS {
        let _ = writeln!(
            s,
            "| `{}` | {}{} | {} | {} |",
            c.name,
            c.ty.name(),
            if c.nullable { ", nullable" } else { "" },
            c.unit,
            c.description
        );
    }
    let _ = writeln!(s, "\n## Labels\n");
    for (k, v) in LABELS {
        let _ = writeln!(s, "- `{k}`: {v}");
    }
    let _ = writeln!(s, "\n## Class balance\n");
    let all = &card["class_balance"]["all"];
    let rows = all["rows"].as_u64().unwrap_or(0);
    let _ = writeln!(s, "{rows} rows in all.\n");
    for key in ["health", "fault_mode", "sensor_fault"] {
        let _ = writeln!(s, "| {key} | rows | share |\n| --- | --- | --- |");
        if let Some(m) = all[key].as_object() {
            for (k, v) in m {
                let n = v.as_u64().unwrap_or(0);
                let _ = writeln!(s, "| {k} | {n} | {} |", pct(n, rows));
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "Machines that fail within their run, by mode: {}.\n",
        all["failures"]
    );
    let _ = writeln!(s, "## Loading\n");
    match settings.format {
        super::Format::Parquet => {
            let _ = writeln!(
                s,
                "pandas:\n\n```python\nimport pandas as pd\ndf = pd.read_parquet(\"features\")  # run and machine come back as categories\n```\n"
            );
            let _ = writeln!(
                s,
                "pyarrow:\n\n```python\nimport json, pyarrow.dataset as ds\ncard = json.load(open(\"dataset.json\"))\nt = ds.dataset(\"features\", format=\"parquet\", partitioning=\"hive\").to_table()\ntrain = t.filter(ds.field(\"run\").isin(card[\"split\"][\"train\"]))\n```\n"
            );
            let _ = writeln!(
                s,
                "DuckDB:\n\n```sql\nSELECT * FROM read_parquet('features/*/*/*.parquet', hive_partitioning = true);\n```\n"
            );
            let _ = writeln!(
                s,
                "Spark:\n\n```python\ndf = spark.read.parquet(\"features\")  # discovers run and machine partitions\n```"
            );
        }
        super::Format::Csv => {
            let _ = writeln!(
                s,
                "pandas:\n\n```python\nimport glob, re, pandas as pd\nparts = []\nfor p in sorted(glob.glob(\"features/run=*/machine=*/*.csv\")):\n    run, machine = re.search(r\"run=(\\d+)/machine=([^/]+)/\", p).groups()\n    parts.append(pd.read_csv(p).assign(run=int(run), machine=machine))\ndf = pd.concat(parts)\n```\n"
            );
            let _ = writeln!(
                s,
                "pyarrow:\n\n```python\nimport pyarrow.dataset as ds\nt = ds.dataset(\"features\", format=\"csv\", partitioning=\"hive\").to_table()\n```\n"
            );
            let _ = writeln!(
                s,
                "DuckDB:\n\n```sql\nSELECT * FROM read_csv('features/*/*/*.csv', hive_partitioning = true);\n```\n"
            );
            let _ = writeln!(
                s,
                "Spark:\n\n```python\ndf = spark.read.option(\"header\", True).option(\"inferSchema\", True).csv(\"features\")\n```"
            );
        }
    }
    s
}

/// The README section on the raw windows table.
fn raw_readme(s: &mut String, settings: &Settings) {
    let _ = writeln!(s, "## Raw acquisition windows\n");
    let _ = writeln!(
        s,
        "`raw/run=NNNN/machine=ID/part-00000.parquet`: the samples every sensor acquired, one row per \
         (sensor, window), keyed by (run, machine, sensor, window). Each axis is one `list<float32>` \
         column of samples in the sensor's unit, 1/`odr_hz` apart from `ts_ns`. A raw row belongs to \
         the feature row with the same run, machine and `ts_ns`; the feature `rms_g` is the largest \
         over the accelerometer's axes of the standard deviation of its samples (mean removed).\n"
    );
    let _ = writeln!(
        s,
        "| machine | sensor | part | unit | odr_hz | samples per window |\n| --- | --- | --- | --- | --- | --- |"
    );
    for m in &settings.nominal.machines {
        for sensor in &m.sensors {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                m.id,
                sensor.id,
                sensor.part.spec().name,
                raw::unit(sensor.part.spec().measures),
                sensor.odr_hz,
                samples_per_window(settings, sensor)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n| name | type | unit | description |\n| --- | --- | --- | --- |"
    );
    for c in RAW_COLUMNS {
        let _ = writeln!(
            s,
            "| `{}` | {}{} | {} | {} |",
            c.name,
            c.ty,
            if c.nullable { ", nullable" } else { "" },
            c.unit,
            c.description
        );
    }
    let _ = writeln!(
        s,
        "\npandas and pyarrow (one row per window; `explode` gives one row per sample):\n\n```python\n\
         import pyarrow.dataset as ds\n\
         raw = ds.dataset(\"raw\", format=\"parquet\", partitioning=\"hive\").to_table().to_pandas()\n\
         feat = ds.dataset(\"features\", format=\"parquet\", partitioning=\"hive\").to_table().to_pandas()\n\
         vib = raw[raw.unit == \"g\"].merge(feat, on=[\"run\", \"machine\", \"ts_ns\"])\n```\n"
    );
    let _ = writeln!(
        s,
        "DuckDB:\n\n```sql\nSELECT f.rms_g, r.sensor, len(r.x) AS n, r.x\n\
         FROM read_parquet('raw/*/*/*.parquet', hive_partitioning = true) r\n\
         JOIN read_parquet('features/*/*/*.parquet', hive_partitioning = true) f\n\
         USING (run, machine, ts_ns);\n```\n"
    );
}

/// Writes `dataset.json` and `README.md` (atomically) from every run's summary.
pub fn write(settings: &Settings, out: &Path, runs: &[RunSummary]) -> Result<(), DatasetError> {
    let card = card_json(settings, runs);
    let mut json = serde_json::to_vec_pretty(&card).expect("the card serialises");
    json.push(b'\n');
    write::write_file_atomic(&out.join("README.md"), readme(settings, &card).as_bytes())?;
    // The JSON card last: its presence means the dataset is complete.
    write::write_file_atomic(&out.join("dataset.json"), &json)?;
    Ok(())
}
