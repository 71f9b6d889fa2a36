//! What a gateway holds until the broker acknowledges it. The session takes
//! messages from an [`Outbox`] when it has room in flight and gives them back
//! (acked or requeued) by id; it never trusts the MQTT client's own queue.

use std::collections::VecDeque;

/// One message owned by the outbox until acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutRecord {
    /// Outbox-assigned id, increasing in push order.
    pub id: u64,
    /// Device (machine) index.
    pub device: usize,
    /// Per-device telemetry sequence number.
    pub seq: u64,
    /// Sim time of the message, ns.
    pub t_ns: u64,
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Result of offering a message to an outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Stored.
    Stored,
    /// Stored, and older messages were dropped to make room (by the overflow policy).
    StoredDropped(Vec<(usize, u64)>),
    /// Refused (reject-new policy); the message is dropped.
    Rejected,
}

/// A store of messages owned until PUBACK.
pub trait Outbox: Send {
    /// Stores a message.
    fn offer(&mut self, device: usize, seq: u64, t_ns: u64, topic: &str, payload: &[u8]) -> Offer;
    /// Up to `max` messages not yet handed out, oldest first; they become in flight.
    fn take_unsent(&mut self, max: usize) -> Vec<OutRecord>;
    /// The broker acknowledged `id`.
    fn ack(&mut self, id: u64);
    /// The connection dropped: in-flight messages go back ahead of the unsent ones.
    fn requeue_in_flight(&mut self);
    /// Messages held (unsent and in flight).
    fn len(&self) -> usize;
    /// Whether nothing is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// (device, seq) of messages dropped or expired without an [`Offer`]
    /// reporting them (e.g. expired while being handed out), since the last
    /// call. Each dropped message is reported exactly once, either in an
    /// [`Offer::StoredDropped`] or here. Default: none ([`MemoryOutbox`]
    /// reports every drop in its offers).
    fn take_dropped(&mut self) -> Vec<(usize, u64)> {
        Vec::new()
    }
}

/// A bounded in-memory outbox (no durability), dropping the oldest when full.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    next_id: u64,
    unsent: VecDeque<OutRecord>,
    in_flight: Vec<OutRecord>,
    capacity: usize,
    reject_new: bool,
    /// Unsent messages older than this (sim ns) behind the newest offered expire.
    ttl_ns: Option<u64>,
    /// The newest sim time offered: "now" for the TTL.
    now: u64,
    /// Expired while being handed out, not yet reported.
    expired: Vec<(usize, u64)>,
}

impl MemoryOutbox {
    /// An outbox holding at most `capacity` messages; when full it drops the oldest
    /// unsent message, or with `reject_new` refuses the new one.
    pub fn new(capacity: usize, reject_new: bool) -> MemoryOutbox {
        MemoryOutbox {
            capacity: capacity.max(1),
            reject_new,
            ..MemoryOutbox::default()
        }
    }

    /// Unsent messages expire (are dropped, and reported) once they are older
    /// than `ttl_ns` behind the newest message offered.
    pub fn with_ttl(mut self, ttl_ns: Option<u64>) -> MemoryOutbox {
        self.ttl_ns = ttl_ns;
        self
    }

    fn expire(&mut self, into: &mut Vec<(usize, u64)>) {
        let Some(ttl) = self.ttl_ns else {
            return;
        };
        let now = self.now;
        self.unsent.retain(|r| {
            let keep = r.t_ns.saturating_add(ttl) >= now;
            if !keep {
                into.push((r.device, r.seq));
            }
            keep
        });
    }
}

impl Outbox for MemoryOutbox {
    fn offer(&mut self, device: usize, seq: u64, t_ns: u64, topic: &str, payload: &[u8]) -> Offer {
        let mut dropped = Vec::new();
        self.now = self.now.max(t_ns);
        self.expire(&mut dropped);
        if self.reject_new && self.unsent.len() + self.in_flight.len() >= self.capacity {
            // Expired ones were dropped all the same; report them with the next call.
            self.expired.extend(dropped);
            return Offer::Rejected;
        }
        while self.unsent.len() + self.in_flight.len() >= self.capacity {
            match self.unsent.pop_front() {
                Some(r) => dropped.push((r.device, r.seq)),
                None => {
                    self.expired.extend(dropped);
                    return Offer::Rejected;
                }
            }
        }
        self.unsent.push_back(OutRecord {
            id: self.next_id,
            device,
            seq,
            t_ns,
            topic: topic.to_string(),
            payload: payload.to_vec(),
        });
        self.next_id += 1;
        if dropped.is_empty() {
            Offer::Stored
        } else {
            Offer::StoredDropped(dropped)
        }
    }

    fn take_unsent(&mut self, max: usize) -> Vec<OutRecord> {
        let mut expired = std::mem::take(&mut self.expired);
        self.expire(&mut expired);
        self.expired = expired;
        let n = max.min(self.unsent.len());
        let out: Vec<OutRecord> = self.unsent.drain(..n).collect();
        self.in_flight.extend(out.iter().cloned());
        out
    }

    fn ack(&mut self, id: u64) {
        self.in_flight.retain(|r| r.id != id);
    }

    fn requeue_in_flight(&mut self) {
        let mut back = std::mem::take(&mut self.in_flight);
        back.sort_by_key(|r| r.id);
        for r in back.into_iter().rev() {
            self.unsent.push_front(r);
        }
    }

    fn len(&self) -> usize {
        self.unsent.len() + self.in_flight.len()
    }

    fn take_dropped(&mut self) -> Vec<(usize, u64)> {
        std::mem::take(&mut self.expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_outbox_keeps_order_through_requeue() {
        let mut o = MemoryOutbox::new(3, false);
        for s in 0..3 {
            assert_eq!(o.offer(0, s, 0, "t", b"x"), Offer::Stored);
        }
        let first = o.take_unsent(2);
        assert_eq!(first.iter().map(|r| r.seq).collect::<Vec<_>>(), [0, 1]);
        o.ack(first[0].id);
        o.requeue_in_flight();
        assert_eq!(
            o.take_unsent(10).iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(o.offer(0, 3, 0, "t", b"x"), Offer::Stored);
        // Full (2 in flight + 1 unsent): the oldest unsent makes room.
        assert_eq!(
            o.offer(0, 4, 0, "t", b"x"),
            Offer::StoredDropped(vec![(0, 3)])
        );
        let _ = o.take_unsent(1);
        // Everything in flight: nothing can be dropped, the new one is refused.
        assert_eq!(o.offer(0, 5, 0, "t", b"x"), Offer::Rejected);
        let mut r = MemoryOutbox::new(1, true);
        assert_eq!(r.offer(0, 0, 0, "t", b"x"), Offer::Stored);
        assert_eq!(r.offer(0, 1, 0, "t", b"x"), Offer::Rejected);
        assert_eq!(r.take_unsent(5)[0].seq, 0, "reject-new keeps the oldest");
    }

    #[test]
    fn memory_outbox_expires_unsent_messages_past_their_ttl_and_reports_each_once() {
        let mut o = MemoryOutbox::new(10, false).with_ttl(Some(10));
        for (s, t) in [(0, 0), (1, 5), (2, 8)] {
            assert_eq!(o.offer(0, s, t, "t", b"x"), Offer::Stored);
        }
        let sent = o.take_unsent(1); // seq 0 is in flight: never expires
        assert_eq!(sent[0].seq, 0);
        // Now is 16: seq 1 (t 5) is 11 old.
        assert_eq!(
            o.offer(0, 3, 16, "t", b"x"),
            Offer::StoredDropped(vec![(0, 1)])
        );
        // Now is 30 by the next offer: seq 2 and 3 expire with it.
        assert_eq!(
            o.offer(0, 4, 30, "t", b"x"),
            Offer::StoredDropped(vec![(0, 2), (0, 3)])
        );
        assert!(o.take_dropped().is_empty());
        o.requeue_in_flight();
        // Handing out at now 30: the requeued seq 0 is stale now; reported by take_dropped.
        let out = o.take_unsent(5);
        assert_eq!(out.iter().map(|r| r.seq).collect::<Vec<_>>(), [4]);
        assert_eq!(o.take_dropped(), [(0, 0)]);
        assert!(o.take_dropped().is_empty());
    }
}
