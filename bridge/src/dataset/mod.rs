//! Labelled training datasets: Parquet (Hive-partitioned) and CSV, with a dataset card.
