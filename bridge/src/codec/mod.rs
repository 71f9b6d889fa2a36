//! Codecs: pure functions from the model's values to payload bytes.

pub mod command;
pub mod json;
pub mod sparkplug;
