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
}

impl Outbox for MemoryOutbox {
    fn offer(&mut self, device: usize, seq: u64, t_ns: u64, topic: &str, payload: &[u8]) -> Offer {
        let mut dropped = Vec::new();
        if self.reject_new && self.unsent.len() + self.in_flight.len() >= self.capacity {
            return Offer::Rejected;
        }
        while self.unsent.len() + self.in_flight.len() >= self.capacity {
            match self.unsent.pop_front() {
                Some(r) => dropped.push((r.device, r.seq)),
                None => return Offer::Rejected,
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
}
