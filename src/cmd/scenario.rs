//! Loading scenario files, and choosing how they are simulated.

use std::path::Path;

use clap::ValueEnum;

use fabtwin_sim::device::Fidelity;
use fabtwin_sim::scenario::Scenario;

/// How features are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FidelityArg {
    /// Synthesise samples in acquisition bursts and compute features from them.
    Raw,
    /// Compute the same features from the signal model's moments (fast).
    Features,
}

impl From<FidelityArg> for Fidelity {
    fn from(f: FidelityArg) -> Fidelity {
        match f {
            FidelityArg::Raw => Fidelity::Raw,
            FidelityArg::Features => Fidelity::Features,
        }
    }
}

/// Loads a scenario, turning its problems into a [`crate::BadInput`].
pub fn load(path: &Path) -> anyhow::Result<(Scenario, String)> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::BadInput(format!("{file}: cannot read: {e}")))?;
    match fabtwin_sim::scenario::from_str(&text, &file) {
        Ok(s) => Ok((s, text)),
        Err(e) => Err(crate::BadInput(e.to_string()).into()),
    }
}
