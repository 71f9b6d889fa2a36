//! Fault signatures and fidelity agreement (tests only).
