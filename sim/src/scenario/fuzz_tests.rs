//! Mutation fuzzing of scenario loading (tests only).
