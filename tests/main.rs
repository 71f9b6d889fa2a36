//! End-to-end tests of the `fabtwin` binary: one test binary, one module per concern.

mod e2e;
