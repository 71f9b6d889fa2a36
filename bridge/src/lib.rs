//! # fabtwin-bridge: every way data enters or leaves
//!
//! The simulation core (`fabtwin-sim`) produces values; this crate turns them
//! into bytes and puts them somewhere: topics and codecs ([`topics`],
//! [`codec`]), run output files ([`files`]), and the run report and JUnit XML
//! ([`report`]). Codecs are pure functions; I/O is kept small and apart.
//!
//! ```
//! use fabtwin_bridge::topics::Topics;
//! let t = Topics::new("fabtwin");
//! assert_eq!(t.telemetry("plant1", "line1-gw", "pump01"), "fabtwin/plant1/line1-gw/pump01/telemetry");
//! ```

pub mod buffer;
pub mod codec;
pub mod dataset;
pub mod files;
pub mod load;
pub mod mirror;
pub mod mqtt;
pub mod predictions;
pub mod provision;
pub mod report;
pub mod shard;
pub mod topics;
