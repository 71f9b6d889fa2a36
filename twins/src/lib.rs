//! # fabtwin-twins: the interactive 3D twin
//!
//! Home of the bevy plugins behind `fabtwin view` (layout, mirrored live state,
//! inspection, fault control). It is built only with the binary's `view`
//! feature, so the headless commands never compile a game engine. The plugins
//! arrive with the twin; until then this crate holds no code.
