//! Scoring predictions against the truth the simulation knows.
