//! Broker load testing with the simulated fleet's real telemetry.
