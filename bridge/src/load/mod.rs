//! Broker load testing with the simulated fleet's real telemetry.
//!
//! [`conn`] is the socket (TCP or TLS), [`pool`] builds the fleet (device ids, topics, real feature-fidelity
//! payloads), [`wire`] writes and reads MQTT bytes, `state` holds what a run's
//! tasks share (settings, live counters, opening a session), [`engine`] drives the
//! sessions on an open-loop schedule, its subscribers account for every
//! message by device sequence number, and
//! [`report`] keeps the results in a form that merges exactly across shards.

pub mod conn;
pub mod engine;
pub mod pool;
pub mod report;
mod state;
mod subscribe;
pub mod wire;
