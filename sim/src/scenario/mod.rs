//! Scenario files: RON text → raw serde types → validated [`Scenario`].
//!
//! ```
//! let src = r#"Scenario(
//!     name: "tiny", duration: "1h",
//!     sites: [(id: "s", lines: [(id: "l", machines: [
//!         (id: "m1", kind: Motor, rated_speed_rpm: 1480,
//!          sensors: [(id: "vib", part: "IIS3DWB")]),
//!     ])])],
//! )"#;
//! let scenario = fabtwin_sim::scenario::from_str(src, "tiny.ron").unwrap();
//! assert_eq!(scenario.machines[0].sensors[0].odr_hz, 26_667.0);
//! ```

mod ctx;
mod flow;
pub mod model;
pub mod raw;
pub mod schema;
pub mod spanned;
mod validate;
pub mod variation;

pub use model::*;

use std::fmt;
use std::path::Path;

/// One problem in a scenario file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// File name as given.
    pub file: String,
    /// 1-based line (0 when the problem concerns the file as a whole).
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// Field path, e.g. `sites[0].lines[0].machines[2].sensors[0].odr_hz`.
    pub path: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl Problem {
    fn whole(file: &str, path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            line: 0,
            col: 0,
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// File name.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a scenario (syntax, unknown field, wrong type).
    #[error("{0}")]
    Syntax(Problem),
    /// The scenario parsed but breaks rules; every problem is listed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl ScenarioError {
    /// Every problem, one per line.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            ScenarioError::Io { file, source } => {
                vec![Problem::whole(file, "", format!("cannot read: {source}"))]
            }
            ScenarioError::Syntax(p) => vec![p.clone()],
            ScenarioError::Invalid(v) => v.clone(),
        }
    }
}

/// Reads and validates the scenario at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        file: file.clone(),
        source,
    })?;
    from_str(&src, &file)
}

/// Parses and validates scenario text `src`, naming it `file` in messages.
pub fn from_str(src: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let raw = parse(src, file)?;
    validate::validate(raw, src, file)
}

/// First step only: the raw file, with syntax and type errors located.
pub fn parse(src: &str, file: &str) -> Result<raw::RawScenario, ScenarioError> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let syntax = |e: ron::error::SpannedError, path: String| {
        ScenarioError::Syntax(Problem {
            file: file.to_string(),
            line: e.span.start.line,
            col: e.span.start.col,
            path,
            message: e.code.to_string(),
        })
    };
    let mut de = ron::Deserializer::from_str_with_options(src, &options)
        .map_err(|e| syntax(e, String::new()))?;
    let raw: raw::RawScenario = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => {
            let path = path_text(e.path());
            let spanned = de.span_error(e.into_inner());
            return Err(syntax(spanned, path));
        }
    };
    de.end()
        .map_err(|e| syntax(de.span_error(e), String::new()))?;
    Ok(raw)
}

/// A serde path as `sites[0].lines[1].id`, leaving out the segments serde could
/// not name (a syntax error between two fields has no field yet: `?` would say nothing).
fn path_text(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key: name } | Segment::Enum { variant: name } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Unknown => {}
        }
    }
    out
}

#[cfg(test)]
mod fuzz_tests;
