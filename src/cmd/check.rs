//! `fabtwin check`: validate scenario files, report every problem.

use std::process::ExitCode;

use serde::Serialize;

use crate::cli::{CheckArgs, Format};

#[derive(Serialize)]
struct FileResult {
    file: String,
    valid: bool,
    problems: Vec<ProblemJson>,
}

#[derive(Serialize)]
struct ProblemJson {
    line: usize,
    col: usize,
    path: String,
    message: String,
}

pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut results = Vec::new();
    for path in &args.files {
        let file = path.display().to_string();
        let outcome = std::fs::read_to_string(path)
            .map_err(|source| fabtwin_sim::scenario::ScenarioError::Io {
                file: file.clone(),
                source,
            })
            .and_then(|text| fabtwin_sim::scenario::from_str(&text, &file));
        let problems = match &outcome {
            Ok(_) => Vec::new(),
            Err(e) => e.problems(),
        };
        results.push((file, outcome.map(|s| s.machines.len()), problems));
    }
    let all_ok = results.iter().all(|r| r.2.is_empty());
    match args.format {
        Format::Text => {
            for (file, outcome, problems) in &results {
                match outcome {
                    Ok(n) => println!("{file}: ok ({n} machines)"),
                    Err(_) => {
                        for p in problems {
                            eprintln!("{p}");
                        }
                    }
                }
            }
        }
        Format::Json => {
            let out: Vec<FileResult> = results
                .into_iter()
                .map(|(file, outcome, problems)| FileResult {
                    file,
                    valid: outcome.is_ok(),
                    problems: problems
                        .into_iter()
                        .map(|p| ProblemJson {
                            line: p.line,
                            col: p.col,
                            path: p.path,
                            message: p.message,
                        })
                        .collect(),
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
