//! `fabtwin new`: write a valid starter scenario.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::BadInput;
use crate::cli::NewArgs;

const KINDS: [(&str, f64, f64); 5] = [
    ("Motor", 1480.0, 11.0),
    ("Pump", 2950.0, 18.5),
    ("Fan", 980.0, 7.5),
    ("Compressor", 2960.0, 45.0),
    ("Spindle", 12000.0, 5.5),
];

/// The text of a starter scenario.
pub fn starter(args: &NewArgs) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Starter scenario written by `fabtwin new`. Reference: `fabtwin schema`."
    );
    let _ = writeln!(
        s,
        "Scenario(\n    name: \"{}\",\n    seed: 1,\n    duration: \"{}\",",
        args.name, args.duration
    );
    let _ = writeln!(
        s,
        "    acquisition: (interval: \"10m\"),\n    sites: [\n        (id: \"plant1\", lines: ["
    );
    let ids: Vec<String> = (1..=args.machines).map(|i| format!("m{i:04}")).collect();
    for (l, chunk) in ids.chunks(args.per_line as usize).enumerate() {
        let _ = writeln!(s, "            (id: \"line{}\", machines: [", l + 1);
        for (k, id) in chunk.iter().enumerate() {
            let (kind, rpm, kw) = KINDS[(l * args.per_line as usize + k) % KINDS.len()];
            let _ = writeln!(
                s,
                "                (id: \"{id}\", kind: {kind}, rated_speed_rpm: {rpm:.1}, rated_power_kw: {kw}, sensors: [\n                    (id: \"vib\", part: \"IIS3DWB\", full_scale: 4),\n                    (id: \"temp\", part: \"STTS22H\", odr_hz: 1),\n                ]),"
            );
        }
        let _ = writeln!(s, "            ]),");
    }
    let _ = writeln!(s, "        ]),\n    ],");
    if args.with_faults {
        let _ = writeln!(s, "    degradation: [");
        for id in ids.iter().step_by(5) {
            let _ = writeln!(
                s,
                "        (machine: \"{id}\", mode: bearing_outer, onset: Uniform(min: \"0s\", max: \"10m\"), growth: Exponential(rate_per_day: 40.0)),"
            );
        }
        let _ = writeln!(
            s,
            "    ],\n    expect: [\n        NoAlarm(machines: Healthy),\n        MessagesAtLeast(1),\n    ],"
        );
    }
    let _ = writeln!(s, ")");
    s
}

pub fn new(args: NewArgs) -> anyhow::Result<ExitCode> {
    let text = starter(&args);
    // What we write must be valid: check it as `fabtwin check` would.
    if let Err(e) = fabtwin_sim::scenario::from_str(&text, "<new>") {
        return Err(BadInput(format!("the arguments do not make a valid scenario:\n{e}")).into());
    }
    match &args.out {
        None => print!("{text}"),
        Some(path) => {
            if path.exists() {
                return Err(BadInput(format!(
                    "{}: already exists (fabtwin new never overwrites)",
                    path.display()
                ))
                .into());
            }
            std::fs::write(path, &text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            eprintln!(
                "wrote {} ({} machines); try: fabtwin run {}",
                path.display(),
                args.machines,
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
