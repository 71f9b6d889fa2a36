//! Tests of the buffer on real files in a temporary directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

const TOPIC: &str = "fab/p1/gw/dev/telemetry";

fn options(limits: Limits, overflow: Overflow) -> Options {
    Options {
        limits,
        overflow,
        sync: SyncPolicy::EveryWrite,
        segment_bytes: 4096,
    }
}

fn unbounded() -> Limits {
    Limits {
        max_messages: None,
        max_bytes: None,
        ttl_ns: None,
    }
}

fn open(dir: &Path, o: Options) -> (Buffer, Recovery) {
    Buffer::open_with(dir, o).expect("open")
}

fn payload(seq: u64) -> Vec<u8> {
    format!("payload of {seq}").into_bytes()
}

/// Pushes a message with `now_ns == t_ns`.
fn push(b: &mut Buffer, device: &str, seq: u64, t_ns: u64) -> Push {
    b.push(device, seq, t_ns, TOPIC, 1, &payload(seq), t_ns)
        .expect("push")
}

/// Pushes and expects it stored with nothing removed; returns the id.
fn store(b: &mut Buffer, device: &str, seq: u64, t_ns: u64) -> u64 {
    match push(b, device, seq, t_ns) {
        Push::Stored { id, removed } if removed.is_empty() => id,
        other => panic!("expected a plain store, got {other:?}"),
    }
}

fn ids(records: &[Record]) -> Vec<u64> {
    records.iter().map(|r| r.id).collect()
}

fn take(b: &mut Buffer, max: usize) -> Vec<u64> {
    let u = b.next_unsent(max, 0).expect("next_unsent");
    assert!(u.expired.is_empty());
    ids(&u.records)
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| segment::parse_name(n).is_some())
        })
        .collect();
    v.sort();
    v
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(bytes).expect("append");
}

fn cut_bytes(path: &Path, n: u64) {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    let len = f.metadata().expect("metadata").len();
    f.set_len(len - n).expect("truncate");
}

/// `stored == acked + dropped + expired + lost + buffered`, in total and
/// per device, and the per-device counts sum to the totals.
fn assert_adds_up(b: &Buffer) {
    let s = b.stats();
    assert_eq!(
        s.stored,
        s.acked + s.dropped_oldest + s.expired + s.lost + s.buffered,
        "{s:?}"
    );
    assert_eq!(s.buffered, b.len());
    let mut sum = DeviceStats::default();
    for (dev, d) in b.device_stats() {
        assert_eq!(
            d.stored,
            d.acked + d.dropped_oldest + d.expired + d.buffered,
            "{dev}: {d:?}"
        );
        sum.stored += d.stored;
        sum.acked += d.acked;
        sum.dropped_oldest += d.dropped_oldest;
        sum.expired += d.expired;
        sum.rejected += d.rejected;
        sum.buffered += d.buffered;
    }
    assert_eq!(
        (
            sum.stored + s.lost,
            sum.acked,
            sum.dropped_oldest,
            sum.expired,
            sum.rejected,
            sum.buffered
        ),
        (
            s.stored,
            s.acked,
            s.dropped_oldest,
            s.expired,
            s.rejected,
            s.buffered
        )
    );
}

#[test]
fn order_is_kept_across_push_peek_and_ack() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut b, rec) = open(tmp.path(), options(unbounded(), Overflow::DropOldest));
    assert!(rec.fresh);
    for i in 0..10 {
        let dev = if i % 2 == 0 { "pump01" } else { "fan02" };
        assert_eq!(store(&mut b, dev, i / 2, 1_000 + i), i);
    }
    let first = b.next_unsent(4, 0).expect("next_unsent");
    assert_eq!(ids(&first.records), vec![0, 1, 2, 3]);
    let r = &first.records[3];
    assert_eq!(
        (r.device.as_str(), r.seq, r.t_ns, r.topic.as_str(), r.qos),
        ("fan02", 1, 1_003, TOPIC, 1)
    );
    assert_eq!(r.payload, payload(1));
    assert_eq!(b.in_flight(), 4);
    assert_eq!(take(&mut b, 100), (4..10).collect::<Vec<_>>());
    assert_eq!(take(&mut b, 100), Vec::<u64>::new());
    for id in 0..10 {
        assert_eq!(b.ack(id).expect("ack"), Ack::Acked);
    }
    assert_eq!((b.len(), b.bytes(), b.in_flight()), (0, 0, 0));
    assert_eq!(b.stats().acked, 10);
    assert_adds_up(&b);
}

#[test]
fn drop_oldest_evicts_exactly_the_oldest_and_counts_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        max_messages: Some(3),
        ..unbounded()
    };
    let (mut b, _) = open(tmp.path(), options(limits, Overflow::DropOldest));
    for seq in 0..3 {
        store(&mut b, "pump01", seq, seq * 10);
    }
    let Push::Stored { id: 3, removed } = push(&mut b, "fan02", 0, 30) else {
        panic!("stored expected")
    };
    assert_eq!(
        removed,
        vec![Removed {
            id: 0,
            device: "pump01".into(),
            seq: 0,
            t_ns: 0,
            why: Removal::DroppedOldest
        }]
    );
    let Push::Stored { id: 4, removed } = push(&mut b, "fan02", 1, 40) else {
        panic!("stored expected")
    };
    assert_eq!(ids_of(&removed), vec![1]);
    assert_eq!(take(&mut b, 10), vec![2, 3, 4]);
    let s = b.stats();
    assert_eq!(
        (s.stored, s.dropped_oldest, s.rejected, s.buffered),
        (5, 2, 0, 3)
    );
    assert_eq!(
        b.device("pump01").map(|d| (d.dropped_oldest, d.buffered)),
        Some((2, 1))
    );
    assert_eq!(
        b.device("fan02").map(|d| (d.dropped_oldest, d.buffered)),
        Some((0, 2))
    );
    assert_adds_up(&b);
}

fn ids_of(removed: &[Removed]) -> Vec<u64> {
    removed.iter().map(|r| r.id).collect()
}

#[test]
fn reject_new_refuses_and_counts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        max_messages: Some(2),
        ..unbounded()
    };
    let (mut b, _) = open(tmp.path(), options(limits, Overflow::RejectNew));
    store(&mut b, "pump01", 0, 0);
    store(&mut b, "pump01", 1, 1);
    assert_eq!(
        push(&mut b, "pump01", 2, 2),
        Push::Rejected {
            reason: Reject::Full,
            removed: vec![]
        }
    );
    assert_eq!(take(&mut b, 10), vec![0, 1]);
    let s = b.stats();
    assert_eq!((s.stored, s.rejected, s.buffered), (2, 1, 2));
    let d = b.device("pump01").expect("pushed");
    assert_eq!((d.rejected, d.last_seq), (1, Some(2)));
    assert_eq!(b.ack(0).expect("ack"), Ack::Acked);
    assert_eq!(
        store(&mut b, "pump01", 3, 3),
        2,
        "room again after an ack; ids are not used by refusals"
    );
    assert_adds_up(&b);
}

#[test]
fn bytes_limit_counts_each_record_as_stored() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let one = frame::record_len("pump01", TOPIC, &payload(0));
    assert_eq!(
        one,
        RECORD_OVERHEAD_BYTES + 6 + TOPIC.len() as u64 + payload(0).len() as u64
    );
    let limits = Limits {
        max_bytes: Some(3 * one),
        ..unbounded()
    };
    let (mut b, _) = open(tmp.path(), options(limits, Overflow::DropOldest));
    for seq in 0..3 {
        store(&mut b, "pump01", seq, seq);
    }
    assert_eq!(b.bytes(), 3 * one);
    let Push::Stored { removed, .. } = push(&mut b, "pump01", 3, 3) else {
        panic!("stored expected")
    };
    assert_eq!(ids_of(&removed), vec![0]);
    assert_eq!(b.bytes(), 3 * one);
    // A record that can never fit is refused without dropping anything.
    let big = vec![0u8; 3 * one as usize];
    let r = b.push("pump01", 4, 4, TOPIC, 1, &big, 4).expect("push");
    let bytes = frame::record_len("pump01", TOPIC, &big);
    assert_eq!(
        r,
        Push::Rejected {
            reason: Reject::TooLarge {
                bytes,
                limit: 3 * one
            },
            removed: vec![]
        }
    );
    assert_eq!(b.len(), 3);
    drop(b);
    let tmp2 = tempfile::tempdir().expect("tempdir");
    let (mut b, _) = open(tmp2.path(), options(limits, Overflow::RejectNew));
    for seq in 0..3 {
        store(&mut b, "pump01", seq, seq);
    }
    assert_eq!(
        push(&mut b, "pump01", 3, 3),
        Push::Rejected {
            reason: Reject::Full,
            removed: vec![]
        }
    );
    assert_adds_up(&b);
}

#[test]
fn ttl_expires_never_sent_records_on_push_and_on_peek() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        ttl_ns: Some(100),
        ..unbounded()
    };
    let (mut b, _) = open(tmp.path(), options(limits, Overflow::DropOldest));
    for (seq, t) in [(0, 0), (1, 50), (2, 100)] {
        store(&mut b, "pump01", seq, t);
    }
    // At 151: 151 - 0 and 151 - 50 exceed 100; 151 - 100 does not.
    let Push::Stored { id: 3, removed } =
        b.push("pump01", 3, 151, TOPIC, 1, b"x", 151).expect("push")
    else {
        panic!("stored expected")
    };
    assert_eq!(ids_of(&removed), vec![0, 1]);
    assert!(removed.iter().all(|r| r.why == Removal::Expired));
    assert_eq!(removed[1].t_ns, 50);
    // Exactly 100 old is not expired; 101 is.
    let u = b.next_unsent(10, 200).expect("next_unsent");
    assert_eq!((ids(&u.records), ids_of(&u.expired)), (vec![2, 3], vec![]));
    b.requeue_in_flight();
    // Handed out once: never expired, however old.
    let u = b.next_unsent(10, 1_000_000).expect("next_unsent");
    assert_eq!((ids(&u.records), ids_of(&u.expired)), (vec![2, 3], vec![]));
    store(&mut b, "pump01", 4, 1_000_000);
    let Push::Stored { removed, .. } = b
        .push("pump01", 5, 1_000_101, TOPIC, 1, b"x", 1_000_101)
        .expect("push")
    else {
        panic!("stored expected")
    };
    assert_eq!(ids_of(&removed), vec![4]);
    let u = b.next_unsent(10, 2_000_000).expect("next_unsent");
    assert_eq!((ids(&u.records), ids_of(&u.expired)), (vec![], vec![5]));
    let s = b.stats();
    assert_eq!((s.expired, s.buffered, s.in_flight), (4, 2, 2));
    assert_adds_up(&b);
}

#[test]
fn drop_oldest_never_drops_records_already_handed_out() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        max_messages: Some(3),
        ..unbounded()
    };
    let (mut b, _) = open(tmp.path(), options(limits, Overflow::DropOldest));
    for seq in 0..3 {
        store(&mut b, "pump01", seq, seq);
    }
    assert_eq!(take(&mut b, 2), vec![0, 1]);
    let Push::Stored { id: 3, removed } = push(&mut b, "pump01", 3, 3) else {
        panic!("stored expected")
    };
    assert_eq!(
        ids_of(&removed),
        vec![2],
        "the oldest never-sent record goes"
    );
    assert_eq!(take(&mut b, 1), vec![3]);
    assert_eq!(
        push(&mut b, "pump01", 4, 4),
        Push::Rejected {
            reason: Reject::InFlight,
            removed: vec![]
        }
    );
    b.requeue_in_flight();
    assert_eq!(
        push(&mut b, "pump01", 5, 5),
        Push::Rejected {
            reason: Reject::InFlight,
            removed: vec![]
        }
    );
    assert_eq!(
        b.ack(1).expect("ack"),
        Ack::Acked,
        "a late PUBACK for a requeued record counts"
    );
    assert_eq!(store(&mut b, "pump01", 6, 6), 4);
    assert_eq!(take(&mut b, 10), vec![0, 3, 4]);
    let s = b.stats();
    assert_eq!(
        (s.stored, s.acked, s.dropped_oldest, s.rejected),
        (5, 1, 1, 2)
    );
    assert_adds_up(&b);
}

#[test]
fn reopen_after_a_drop_without_ack_returns_exactly_the_unacked_records_in_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    for i in 0..20 {
        store(&mut b, ["a", "b", "c"][i as usize % 3], i, 1_000 + 7 * i);
    }
    let before = b.next_unsent(100, 0).expect("next_unsent").records;
    assert_eq!(b.ack_many(&[3, 7, 0, 12, 7, 99]).expect("ack_many"), 4);
    let stats = b.stats();
    drop(b); // no close: what a crash leaves
    let (mut b, rec) = open(tmp.path(), o);
    assert_eq!((rec.records, rec.fresh, rec.lost), (16, false, 0));
    assert!(rec.truncated.is_empty());
    let back = b.next_unsent(100, 0).expect("next_unsent").records;
    let want: Vec<Record> = before
        .into_iter()
        .filter(|r| ![0, 3, 7, 12].contains(&r.id))
        .collect();
    assert_eq!(back, want, "same ids, sim times, payloads, in order");
    assert_eq!(
        b.stats(),
        Stats {
            in_flight: 16,
            ..stats
        }
    );
    assert_eq!(store(&mut b, "a", 20, 2_000), 20, "ids carry on");
    assert_eq!(b.device("a").and_then(|d| d.last_seq), Some(20));
    assert_adds_up(&b);
}

#[test]
fn appended_garbage_is_a_torn_tail_that_is_cut_off_and_reported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    for seq in 0..5 {
        store(&mut b, "pump01", seq, seq);
    }
    drop(b);
    let seg = segment_files(tmp.path()).pop().expect("a segment");
    let len = std::fs::metadata(&seg).expect("metadata").len();
    append_bytes(&seg, &[0x5a; 13]);
    let (mut b, rec) = open(tmp.path(), o);
    assert_eq!(rec.truncated.len(), 1, "{rec:?}");
    let t = &rec.truncated[0];
    assert_eq!((&t.path, t.offset, t.bytes), (&seg, len, 13));
    assert_eq!(std::fs::metadata(&seg).expect("metadata").len(), len);
    assert_eq!(take(&mut b, 10), vec![0, 1, 2, 3, 4]);
    assert_eq!(store(&mut b, "pump01", 5, 5), 5);
    drop(b);
    let (_, rec) = open(tmp.path(), o);
    assert!(rec.truncated.is_empty());
    assert_eq!(rec.records, 6);
}

#[test]
fn a_record_cut_midway_is_detected_and_truncated() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    for seq in 0..5 {
        store(&mut b, "pump01", seq, seq);
    }
    drop(b);
    let seg = segment_files(tmp.path()).pop().expect("a segment");
    let one = frame::record_len("pump01", TOPIC, &payload(4));
    cut_bytes(&seg, 10);
    let (mut b, rec) = open(tmp.path(), o);
    assert_eq!(rec.truncated.len(), 1);
    assert_eq!(rec.truncated[0].bytes, one - 10);
    assert_eq!(rec.truncated[0].why, "frame runs past the end of the file");
    assert_eq!(rec.records, 4);
    assert_eq!(take(&mut b, 10), vec![0, 1, 2, 3]);
    // The torn record never finished being stored, so its id is free again.
    assert_eq!(store(&mut b, "pump01", 4, 4), 4);
    assert_eq!((b.stats().stored, b.stats().lost), (5, 0));
    assert_adds_up(&b);
}

#[test]
fn a_torn_journal_entry_is_cut_off_and_its_record_comes_back() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    for seq in 0..3 {
        store(&mut b, "pump01", seq, seq);
    }
    assert_eq!(take(&mut b, 3), vec![0, 1, 2]);
    assert_eq!(b.ack(0).expect("ack"), Ack::Acked);
    assert_eq!(b.ack(1).expect("ack"), Ack::Acked);
    drop(b);
    let journal = tmp.path().join(journal::FILE_NAME);
    cut_bytes(&journal, 3);
    let (mut b, rec) = open(tmp.path(), o);
    assert_eq!(rec.truncated.len(), 1);
    assert_eq!(rec.truncated[0].path, journal);
    assert_eq!(
        take(&mut b, 10),
        vec![1, 2],
        "at least once: the ack never fully reached the disk"
    );
    assert_eq!(b.stats().acked, 1);
    assert_adds_up(&b);
}

#[test]
fn a_corrupt_segment_header_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    store(&mut b, "pump01", 0, 0);
    drop(b);
    let seg = segment_files(tmp.path()).pop().expect("a segment");
    let mut bytes = std::fs::read(&seg).expect("read");
    bytes[20] ^= 0xff; // inside the header frame
    std::fs::write(&seg, &bytes).expect("write");
    let err = Buffer::open_with(tmp.path(), o).expect_err("a bad header must not open");
    assert!(
        matches!(&err, BufferError::BadHeader { path, kind: "segment", .. } if *path == seg),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("seg-00000000000000000000.log"),
        "{err}"
    );
    // Not a buffer file at all.
    std::fs::write(&seg, b"hello").expect("write");
    let err = Buffer::open_with(tmp.path(), o).expect_err("must not open");
    assert!(err.to_string().contains("magic bytes FTWSEG01"), "{err}");
    // An empty file is no better.
    std::fs::write(&seg, b"").expect("write");
    assert!(matches!(
        Buffer::open_with(tmp.path(), o),
        Err(BufferError::BadHeader { .. })
    ));
}

#[test]
fn a_corrupt_journal_header_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    drop(open(tmp.path(), o));
    let journal = tmp.path().join(journal::FILE_NAME);
    let mut bytes = std::fs::read(&journal).expect("read");
    bytes[12] ^= 0x01;
    std::fs::write(&journal, &bytes).expect("write");
    let err = Buffer::open_with(tmp.path(), o).expect_err("must not open");
    assert!(
        matches!(&err, BufferError::BadHeader { path, kind: "journal", .. } if *path == journal),
        "{err:?}"
    );
}

#[test]
fn damage_in_an_older_segment_is_an_error_not_a_torn_tail() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    for seq in 0..12 {
        assert!(matches!(
            b.push("pump01", seq, seq, TOPIC, 1, &[7; 1000], seq)
                .expect("push"),
            Push::Stored { .. }
        ));
    }
    drop(b);
    let segs = segment_files(tmp.path());
    assert!(segs.len() >= 2);
    let mut bytes = std::fs::read(&segs[0]).expect("read");
    let at = bytes.len() - 5;
    bytes[at] ^= 0x10;
    std::fs::write(&segs[0], &bytes).expect("write");
    let err = Buffer::open_with(tmp.path(), o).expect_err("must not open");
    assert!(
        matches!(&err, BufferError::Corrupt { path, .. } if *path == segs[0]),
        "{err:?}"
    );
}

#[test]
fn acks_may_come_in_any_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    for seq in 0..6 {
        store(&mut b, "pump01", seq, seq);
    }
    assert_eq!(take(&mut b, 6), vec![0, 1, 2, 3, 4, 5]);
    for id in [5, 1, 3] {
        assert_eq!(b.ack(id).expect("ack"), Ack::Acked);
    }
    assert_eq!(
        b.ack(3).expect("ack"),
        Ack::Unknown,
        "a second PUBACK changes nothing"
    );
    assert_eq!(b.ack(99).expect("ack"), Ack::Unknown);
    assert_eq!((b.len(), b.in_flight(), b.stats().acked), (3, 3, 3));
    drop(b);
    let (mut b, _) = open(tmp.path(), o);
    assert_eq!(take(&mut b, 10), vec![0, 2, 4]);
    assert_adds_up(&b);
}

#[test]
fn requeue_in_flight_keeps_order_ahead_of_newer_records() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut b, _) = open(tmp.path(), options(unbounded(), Overflow::DropOldest));
    for seq in 0..6 {
        store(&mut b, "pump01", seq, seq);
    }
    assert_eq!(take(&mut b, 3), vec![0, 1, 2]);
    assert_eq!(b.ack(1).expect("ack"), Ack::Acked);
    b.requeue_in_flight();
    assert_eq!(b.in_flight(), 0);
    store(&mut b, "pump01", 6, 6);
    assert_eq!(take(&mut b, 2), vec![0, 2]);
    b.requeue_in_flight();
    assert_eq!(take(&mut b, 10), vec![0, 2, 3, 4, 5, 6]);
    assert_eq!(b.in_flight(), 6);
}

#[test]
fn segments_rotate_and_settled_ones_are_deleted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    let body = [9u8; 1000];
    for seq in 0..20 {
        assert!(matches!(
            b.push("pump01", seq, seq, TOPIC, 1, &body, seq)
                .expect("push"),
            Push::Stored { .. }
        ));
    }
    let segs = segment_files(tmp.path());
    assert_eq!(
        segs.len(),
        7,
        "3 records of ~1.1 KB per 4 KiB segment: {segs:?}"
    );
    assert_eq!(take(&mut b, 20).len(), 20);
    // Settle the second segment (ids 3..6) while the first is still owed.
    b.ack_many(&[3, 4, 5]).expect("ack");
    let left = segment_files(tmp.path());
    assert_eq!(left.len(), 6);
    assert!(!left.contains(&segs[1]) && left.contains(&segs[0]));
    for id in 0..3 {
        assert_eq!(b.ack(id).expect("ack"), Ack::Acked);
    }
    assert_eq!(segment_files(tmp.path()), segs[2..].to_vec());
    // Settling everything keeps only the newest segment, for appends.
    b.ack_many(&(6..20).collect::<Vec<_>>()).expect("ack");
    assert_eq!(segment_files(tmp.path()), segs[6..].to_vec());
    drop(b);
    let (mut b, rec) = open(tmp.path(), o);
    assert_eq!((rec.records, rec.segments), (0, 0));
    assert_eq!(rec.removed_files, segs[6..].to_vec());
    assert!(segment_files(tmp.path()).is_empty());
    assert_eq!(b.stats().acked, 20);
    assert_eq!(store(&mut b, "pump01", 20, 20), 20);
    assert_adds_up(&b);
}

#[test]
fn a_segment_whose_deletion_a_crash_undid_is_not_counted_twice() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    for seq in 0..10 {
        assert!(matches!(
            b.push("pump01", seq, seq, TOPIC, 1, &[1; 1000], seq)
                .expect("push"),
            Push::Stored { .. }
        ));
    }
    assert_eq!(take(&mut b, 10).len(), 10);
    let first = segment_files(tmp.path())[0].clone();
    let saved = std::fs::read(&first).expect("read");
    assert_eq!(b.ack_many(&[0, 1, 2]).expect("ack"), 3);
    assert!(!first.exists());
    drop(b);
    drop(open(tmp.path(), o)); // folds the deleted segment's records into the journal header
    std::fs::write(&first, saved).expect("write"); // ... and the unlink comes undone
    let (mut b, rec) = open(tmp.path(), o);
    assert_eq!(rec.removed_files, vec![first]);
    assert_eq!((rec.records, b.stats().stored, b.stats().acked), (7, 10, 3));
    assert_eq!(take(&mut b, 10), (3..10).collect::<Vec<_>>());
    assert_adds_up(&b);
}

#[test]
fn the_journal_stays_small_and_counts_survive_compaction() {
    // Two records are never acknowledged: they pin their segments (and the
    // journal entries of those segments' other records), but nothing else.
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = Options {
        sync: SyncPolicy::Batch,
        ..options(unbounded(), Overflow::DropOldest)
    };
    let (mut b, _) = open(tmp.path(), o);
    for seq in 0..2_000 {
        let id = store(&mut b, "pump01", seq, seq);
        assert_eq!(take(&mut b, 1), vec![id]);
        if seq != 7 && seq != 1_260 {
            assert_eq!(b.ack(id).expect("ack"), Ack::Acked);
        }
    }
    // Three segments of ~50 records need ~150 entries of 31 bytes; the
    // journal may grow to twice that before it is compacted. Without
    // compaction it would hold 1,998 entries (62 KB).
    let journal = std::fs::metadata(tmp.path().join(journal::FILE_NAME))
        .expect("metadata")
        .len();
    assert!(
        journal < 12 * 1024,
        "journal of {journal} bytes was never compacted"
    );
    assert!(
        segment_files(tmp.path()).len() <= 3,
        "only the segments holding 7, 1260 and the newest are left"
    );
    let stats = b.stats();
    assert_eq!((stats.acked, stats.buffered), (1_998, 2));
    drop(b);
    let (mut b, rec) = open(tmp.path(), o);
    assert_eq!(rec.records, 2);
    assert_eq!(
        b.stats(),
        Stats {
            in_flight: 0,
            ..stats
        }
    );
    assert_eq!(take(&mut b, 100), vec![7, 1_260]);
    assert_adds_up(&b);
}

#[test]
fn stats_add_up_across_reopen() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        max_messages: Some(5),
        max_bytes: None,
        ttl_ns: Some(1_000),
    };
    let o = options(limits, Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    let mut now = 0;
    for seq in 0..40 {
        now += if seq % 9 == 0 { 1_500 } else { 100 };
        let dev = ["a", "b"][seq as usize % 2];
        let _ = b
            .push(dev, seq, now, TOPIC, 1, &payload(seq), now)
            .expect("push");
        if seq % 4 == 0 {
            let u = b.next_unsent(2, now).expect("next_unsent");
            if let Some(r) = u.records.first() {
                assert_eq!(b.ack(r.id).expect("ack"), Ack::Acked);
            }
        }
        if seq % 7 == 0 {
            b.requeue_in_flight();
        }
        assert_adds_up(&b);
    }
    let s = b.stats();
    assert!(
        s.acked > 0 && s.dropped_oldest > 0 && s.expired > 0,
        "{s:?}"
    );
    let devices: Vec<(String, DeviceStats)> =
        b.device_stats().map(|(k, d)| (k.to_owned(), d)).collect();
    drop(b);
    let (b, _) = open(tmp.path(), o);
    assert_eq!(b.stats(), Stats { in_flight: 0, ..s });
    assert_eq!(
        b.device_stats()
            .map(|(k, d)| (k.to_owned(), d))
            .collect::<Vec<_>>(),
        devices
    );
    assert_adds_up(&b);
}

#[test]
fn records_whose_bytes_a_crash_destroyed_are_counted_lost() {
    // What an OS crash under SyncPolicy::Batch can leave: the journal settled
    // record 2, but the segment's last two records never reached the disk.
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = Options {
        sync: SyncPolicy::Batch,
        ..options(unbounded(), Overflow::DropOldest)
    };
    let (mut b, _) = open(tmp.path(), o);
    for seq in 0..3 {
        store(&mut b, "pump01", seq, seq);
    }
    assert_eq!(take(&mut b, 3), vec![0, 1, 2]);
    assert_eq!(b.ack(2).expect("ack"), Ack::Acked);
    b.close().expect("close");
    let seg = segment_files(tmp.path()).pop().expect("a segment");
    cut_bytes(&seg, 2 * frame::record_len("pump01", TOPIC, &payload(1)));
    let (mut b, rec) = open(tmp.path(), o);
    assert!(
        rec.truncated.is_empty(),
        "a cut at a frame boundary is not torn"
    );
    assert_eq!((rec.records, rec.lost), (1, 1));
    let s = b.stats();
    assert_eq!((s.stored, s.acked, s.lost, s.buffered), (3, 1, 1, 1));
    assert_eq!(take(&mut b, 10), vec![0]);
    assert_adds_up(&b);
    drop(b);
    let (b, rec) = open(tmp.path(), o);
    assert_eq!(rec.lost, 0, "counted once");
    assert_eq!(b.stats().lost, 1);
}

#[test]
fn a_directory_is_opened_by_one_buffer_at_a_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    let (b, _) = open(tmp.path(), o);
    let err = Buffer::open_with(tmp.path(), o).expect_err("second open");
    assert!(matches!(err, BufferError::Locked { .. }), "{err:?}");
    drop(b);
    open(tmp.path(), o);
}

#[test]
fn bad_options_and_a_missing_journal_are_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(
        Limits {
            max_messages: Some(0),
            ..unbounded()
        },
        Overflow::DropOldest,
    );
    assert!(matches!(
        Buffer::open_with(tmp.path(), o),
        Err(BufferError::BadOptions { .. })
    ));
    let o = Options {
        segment_bytes: 100,
        ..options(unbounded(), Overflow::DropOldest)
    };
    assert!(matches!(
        Buffer::open_with(tmp.path(), o),
        Err(BufferError::BadOptions { .. })
    ));
    let o = options(unbounded(), Overflow::DropOldest);
    let (mut b, _) = open(tmp.path(), o);
    store(&mut b, "pump01", 0, 0);
    drop(b);
    std::fs::remove_file(tmp.path().join(journal::FILE_NAME)).expect("remove");
    let err = Buffer::open_with(tmp.path(), o).expect_err("must not open");
    assert!(
        matches!(err, BufferError::MissingJournal { segments: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn leftover_temporary_files_are_removed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = options(unbounded(), Overflow::DropOldest);
    drop(open(tmp.path(), o));
    let tmp_seg = tmp.path().join("seg-00000000000000000000.log.tmp");
    std::fs::write(&tmp_seg, b"FTWSEG").expect("write");
    let (_, rec) = open(tmp.path(), o);
    assert_eq!(rec.removed_files, vec![tmp_seg.clone()]);
    assert!(!tmp_seg.exists());
}

// ---- property test: random operations against an in-memory model ---------

/// xorshift64*: a small, seeded, dependency-free generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MState {
    Unsent { sent: bool },
    InFlight,
}

/// What the buffer should do, written as plainly as possible.
struct Model {
    limits: Limits,
    overflow: Overflow,
    held: Vec<(Record, MState)>,
    next_id: u64,
    stats: Stats,
    devices: BTreeMap<String, DeviceStats>,
}

impl Model {
    fn size(r: &Record) -> u64 {
        frame::record_len(&r.device, &r.topic, &r.payload)
    }

    fn expired(&self, r: &Record, now: u64) -> bool {
        self.limits
            .ttl_ns
            .is_some_and(|ttl| now.saturating_sub(r.t_ns) > ttl)
    }

    fn remove(&mut self, ids: &[u64], why: Removal) -> Vec<Removed> {
        let mut out = Vec::new();
        for &id in ids {
            let at = self
                .held
                .iter()
                .position(|(r, _)| r.id == id)
                .expect("held");
            let (r, _) = self.held.remove(at);
            let d = self.devices.get_mut(&r.device).expect("device");
            d.buffered -= 1;
            match why {
                Removal::Expired => (self.stats.expired += 1, d.expired += 1),
                Removal::DroppedOldest => (self.stats.dropped_oldest += 1, d.dropped_oldest += 1),
            };
            out.push(Removed {
                id,
                device: r.device,
                seq: r.seq,
                t_ns: r.t_ns,
                why,
            });
        }
        out
    }

    fn push(&mut self, mut rec: Record, now: u64) -> Push {
        let removable: Vec<u64> = self
            .held
            .iter()
            .filter(|(_, s)| *s == MState::Unsent { sent: false })
            .map(|(r, _)| r.id)
            .collect();
        let mut k = 0;
        let mut expire = Vec::new();
        while k < removable.len() && {
            let r = &self
                .held
                .iter()
                .find(|(r, _)| r.id == removable[k])
                .expect("held")
                .0;
            self.expired(r, now)
        } {
            expire.push(removable[k]);
            k += 1;
        }
        let size = Model::size(&rec);
        let mut reason = match self.limits.max_bytes {
            Some(m) if size > m => Some(Reject::TooLarge {
                bytes: size,
                limit: m,
            }),
            _ => None,
        };
        let mut drop = Vec::new();
        if reason.is_none() {
            let gone = |ids: &[u64], held: &[(Record, MState)]| -> (u64, u64) {
                let rs = held.iter().filter(|(r, _)| ids.contains(&r.id));
                (ids.len() as u64, rs.map(|(r, _)| Model::size(r)).sum())
            };
            loop {
                let mut all = expire.clone();
                all.extend(&drop);
                let (n, bytes) = gone(&all, &self.held);
                let len = self.held.len() as u64 - n;
                let held_bytes: u64 =
                    self.held.iter().map(|(r, _)| Model::size(r)).sum::<u64>() - bytes;
                let full = self.limits.max_messages.is_some_and(|m| len + 1 > m)
                    || self.limits.max_bytes.is_some_and(|m| held_bytes + size > m);
                if !full {
                    break;
                }
                if self.overflow == Overflow::RejectNew {
                    reason = Some(Reject::Full);
                    break;
                }
                if k == removable.len() {
                    reason = Some(Reject::InFlight);
                    break;
                }
                drop.push(removable[k]);
                k += 1;
            }
            if reason.is_some() {
                drop.clear();
            }
        }
        let mut removed = self.remove(&expire, Removal::Expired);
        removed.extend(self.remove(&drop, Removal::DroppedOldest));
        let d = self.devices.entry(rec.device.clone()).or_default();
        d.last_seq = d.last_seq.max(Some(rec.seq));
        if let Some(reason) = reason {
            d.rejected += 1;
            self.stats.rejected += 1;
            return Push::Rejected { reason, removed };
        }
        d.stored += 1;
        d.buffered += 1;
        self.stats.stored += 1;
        rec.id = self.next_id;
        self.next_id += 1;
        self.held.push((rec, MState::Unsent { sent: false }));
        Push::Stored {
            id: self.next_id - 1,
            removed,
        }
    }

    fn next_unsent(&mut self, max: usize, now: u64) -> Unsent {
        let mut records = Vec::new();
        let mut expire = Vec::new();
        for i in 0..self.held.len() {
            if records.len() == max {
                break;
            }
            let (r, s) = &self.held[i];
            if let MState::Unsent { sent } = *s {
                if !sent && self.expired(r, now) {
                    expire.push(r.id);
                } else {
                    records.push(r.clone());
                    self.held[i].1 = MState::InFlight;
                }
            }
        }
        Unsent {
            records,
            expired: self.remove(&expire, Removal::Expired),
        }
    }

    fn ack(&mut self, id: u64) -> Ack {
        let Some(at) = self.held.iter().position(|(r, _)| r.id == id) else {
            return Ack::Unknown;
        };
        let (r, _) = self.held.remove(at);
        let d = self.devices.get_mut(&r.device).expect("device");
        d.buffered -= 1;
        d.acked += 1;
        self.stats.acked += 1;
        Ack::Acked
    }

    fn requeue(&mut self) {
        for (_, s) in &mut self.held {
            if *s == MState::InFlight {
                *s = MState::Unsent { sent: true };
            }
        }
    }

    fn reopen(&mut self) {
        for (_, s) in &mut self.held {
            *s = MState::Unsent { sent: false };
        }
    }

    fn check(&self, b: &Buffer, what: &str) {
        let in_flight = self
            .held
            .iter()
            .filter(|(_, s)| *s == MState::InFlight)
            .count() as u64;
        let bytes = self.held.iter().map(|(r, _)| Model::size(r)).sum();
        let want = Stats {
            buffered: self.held.len() as u64,
            in_flight,
            bytes,
            ..self.stats
        };
        assert_eq!(b.stats(), want, "after {what}");
        assert_eq!(
            (b.len(), b.bytes(), b.in_flight()),
            (want.buffered, want.bytes, want.in_flight),
            "after {what}"
        );
        let got: BTreeMap<String, DeviceStats> =
            b.device_stats().map(|(k, d)| (k.to_owned(), d)).collect();
        assert_eq!(got, self.devices, "after {what}");
        assert_adds_up(b);
    }
}

/// Runs `ops` random operations; returns the final counts and how many
/// pushes were refused for being full with everything removable in flight.
fn run_random(seed: u64, ops: usize) -> (Stats, u64, u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let limits = Limits {
        max_messages: if rng.below(3) == 0 {
            None
        } else {
            Some(1 + rng.below(12))
        },
        max_bytes: if rng.below(3) == 0 {
            None
        } else {
            Some(400 + rng.below(2_000))
        },
        ttl_ns: if rng.below(2) == 0 {
            None
        } else {
            Some(50 + rng.below(150))
        },
    };
    let overflow = if rng.below(2) == 0 {
        Overflow::DropOldest
    } else {
        Overflow::RejectNew
    };
    let sync = if seed.is_multiple_of(8) {
        SyncPolicy::EveryWrite
    } else {
        SyncPolicy::Batch
    };
    let o = Options {
        limits,
        overflow,
        sync,
        segment_bytes: 4096,
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut b, _) = open(tmp.path(), o);
    let mut m = Model {
        limits,
        overflow,
        held: Vec::new(),
        next_id: 0,
        stats: Stats::default(),
        devices: BTreeMap::new(),
    };
    let mut seqs = [0u64; 3];
    let mut now = 0u64;
    let (mut in_flight_refusals, mut torn_reopens) = (0, 0);
    for step in 0..ops {
        let what = format!("seed {seed} step {step}");
        match rng.below(100) {
            0..40 => {
                let d = rng.below(3) as usize;
                let device = ["a", "bb", "ccc"][d].to_owned();
                now += rng.below(30);
                let t_ns = now - rng.below(now.min(80) + 1);
                let body: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
                let topic = format!("fab/{device}/telemetry");
                let qos = rng.below(3) as u8;
                let got = b
                    .push(&device, seqs[d], t_ns, &topic, qos, &body, now)
                    .expect("push");
                let rec = Record {
                    id: 0,
                    device,
                    seq: seqs[d],
                    t_ns,
                    topic,
                    qos,
                    payload: body,
                };
                seqs[d] += 1;
                if let Push::Rejected {
                    reason: Reject::InFlight,
                    ..
                } = got
                {
                    in_flight_refusals += 1;
                }
                assert_eq!(got, m.push(rec, now), "{what}: push");
            }
            40..60 => {
                let max = rng.below(5) as usize;
                let got = b.next_unsent(max, now).expect("next_unsent");
                assert_eq!(got, m.next_unsent(max, now), "{what}: next_unsent({max})");
            }
            60..80 => {
                let in_flight: Vec<u64> = m
                    .held
                    .iter()
                    .filter(|(_, s)| *s != MState::Unsent { sent: false })
                    .map(|(r, _)| r.id)
                    .collect();
                let id = if !in_flight.is_empty() && rng.below(4) != 0 {
                    in_flight[rng.below(in_flight.len() as u64) as usize]
                } else {
                    rng.below(m.next_id + 2)
                };
                assert_eq!(b.ack(id).expect("ack"), m.ack(id), "{what}: ack({id})");
            }
            80..85 => {
                let ids: Vec<u64> = (0..rng.below(6))
                    .map(|_| rng.below(m.next_id + 1))
                    .collect();
                let want = {
                    let mut unique = ids.clone();
                    unique.sort_unstable();
                    unique.dedup();
                    unique
                        .into_iter()
                        .filter(|&id| m.ack(id) == Ack::Acked)
                        .count() as u64
                };
                assert_eq!(
                    b.ack_many(&ids).expect("ack_many"),
                    want,
                    "{what}: ack_many({ids:?})"
                );
            }
            85..92 => {
                b.requeue_in_flight();
                m.requeue();
            }
            92..97 => {
                if rng.below(2) == 0 {
                    b.close().expect("close");
                } else {
                    drop(b);
                }
                let (nb, rec) = open(tmp.path(), o);
                b = nb;
                m.reopen();
                assert_eq!(
                    (rec.records, rec.lost),
                    (m.held.len() as u64, 0),
                    "{what}: reopen"
                );
            }
            _ => {
                // A crash in the middle of a write: a torn frame at the end of
                // the newest segment or of the journal.
                drop(b);
                let target = match segment_files(tmp.path()).pop() {
                    Some(seg) if rng.below(2) == 0 => seg,
                    _ => tmp.path().join(journal::FILE_NAME),
                };
                let junk: Vec<u8> = (0..1 + rng.below(40)).map(|_| rng.next() as u8).collect();
                append_bytes(&target, &junk);
                let (nb, rec) = open(tmp.path(), o);
                b = nb;
                m.reopen();
                assert_eq!(
                    rec.truncated.len(),
                    1,
                    "{what}: torn tail of {target:?}: {rec:?}"
                );
                assert_eq!(rec.truncated[0].bytes, junk.len() as u64);
                assert_eq!(rec.records, m.held.len() as u64, "{what}: torn reopen");
                torn_reopens += 1;
            }
        }
        m.check(&b, &what);
    }
    (b.stats(), in_flight_refusals, torn_reopens)
}

#[test]
fn random_operations_match_a_simple_model() {
    let mut all = Stats::default();
    let (mut in_flight_refusals, mut torn_reopens) = (0, 0);
    for seed in 0..48 {
        let (s, refusals, torn) = run_random(seed, 400);
        all.acked += s.acked;
        all.dropped_oldest += s.dropped_oldest;
        all.expired += s.expired;
        all.rejected += s.rejected;
        in_flight_refusals += refusals;
        torn_reopens += torn;
    }
    // Every path was taken somewhere.
    assert!(
        all.acked > 1_000 && all.dropped_oldest > 100 && all.expired > 100 && all.rejected > 100,
        "{all:?}"
    );
    assert!(
        in_flight_refusals > 10 && torn_reopens > 50,
        "{in_flight_refusals} {torn_reopens}"
    );
}

#[test]
fn a_buffer_can_move_to_another_thread_or_task() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Buffer>();
    send_and_sync::<BufferError>();
}
