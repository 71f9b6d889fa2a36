//! MQTT 3.1.1 bytes for the load path. CONNECT, SUBSCRIBE and everything read
//! back go through rumqttc's packet codec (`rumqttc::mqttbytes::v4`); the hot
//! PUBLISH is written straight into the session's output buffer, with the
//! payload spliced in place, so a send allocates nothing.

use bytes::BytesMut;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    Connect, ConnectReturnCode, LastWill, Login, Packet, Subscribe, SubscribeFilter,
};

use super::pool::{payload_len, write_payload};

/// Largest packet read back (SUBACKs, PUBLISHes to subscribers).
pub const MAX_PACKET: usize = 1 << 20;

/// Keep-alive announced in CONNECT, seconds; sessions ping at half of it.
pub const KEEP_ALIVE_S: u16 = 60;

/// Appends a CONNECT packet, with a will `(topic, payload)` at QoS 1, not retained.
pub fn connect(
    out: &mut BytesMut,
    client_id: &str,
    login: Option<(&str, &str)>,
    will: Option<(&str, &[u8])>,
) {
    let mut c = Connect::new(client_id);
    if let Some((topic, payload)) = will {
        c.last_will = Some(LastWill::new(topic, payload, QoS::AtLeastOnce, false));
    }
    c.keep_alive = KEEP_ALIVE_S;
    c.clean_session = true;
    if let Some((u, p)) = login {
        c.login = Some(Login::new(u, p));
    }
    c.write(out)
        .expect("a CONNECT with a short client id encodes");
}

/// Appends a SUBSCRIBE for `filters` with packet id `pkid`.
pub fn subscribe(out: &mut BytesMut, pkid: u16, filters: &[String], qos: u8) {
    let qos = if qos == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    };
    let mut s = Subscribe::new_many(filters.iter().map(|f| SubscribeFilter::new(f.clone(), qos)));
    s.pkid = pkid;
    s.write(out).expect("a SUBSCRIBE of valid filters encodes");
}

/// Appends a PUBACK for `pkid`.
pub fn puback(out: &mut Vec<u8>, pkid: u16) {
    out.extend_from_slice(&[0x40, 2, (pkid >> 8) as u8, pkid as u8]);
}

/// A PINGREQ.
pub const PINGREQ: [u8; 2] = [0xC0, 0];
/// A DISCONNECT.
pub const DISCONNECT: [u8; 2] = [0xE0, 0];

/// Appends a PUBLISH of a spliced telemetry payload (`pkid` 0 means QoS 0).
#[allow(clippy::too_many_arguments)]
pub fn publish(
    out: &mut Vec<u8>,
    topic: &[u8],
    pkid: u16,
    head: &[u8],
    tail: &[u8],
    seq: u64,
    sent_ns: u64,
) -> usize {
    let plen = payload_len(head, tail, seq, sent_ns);
    publish_header(out, topic, pkid, plen);
    write_payload(out, head, tail, seq, sent_ns);
    plen
}

/// Appends a PUBLISH's fixed header, topic and packet id for a payload of
/// `plen` bytes (`pkid` 0 means QoS 0); the payload follows.
pub fn publish_header(out: &mut Vec<u8>, topic: &[u8], pkid: u16, plen: usize) {
    let qos1 = pkid != 0;
    let remaining = 2 + topic.len() + if qos1 { 2 } else { 0 } + plen;
    out.push(if qos1 { 0x32 } else { 0x30 });
    let mut r = remaining;
    loop {
        let mut b = (r % 128) as u8;
        r /= 128;
        if r > 0 {
            b |= 0x80;
        }
        out.push(b);
        if r == 0 {
            break;
        }
    }
    out.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    out.extend_from_slice(topic);
    if qos1 {
        out.extend_from_slice(&pkid.to_be_bytes());
    }
}

/// Reads every complete packet from `buf`; Err names what was malformed.
pub fn read_packets(buf: &mut BytesMut, mut each: impl FnMut(Packet)) -> Result<(), String> {
    loop {
        match Packet::read(buf, MAX_PACKET) {
            Ok(p) => each(p),
            Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => return Ok(()),
            Err(e) => return Err(format!("malformed packet from broker: {e}")),
        }
    }
}

/// Why a broker refused a CONNECT, as a reason a report counts.
pub fn refusal(code: ConnectReturnCode) -> Option<&'static str> {
    match code {
        ConnectReturnCode::Success => None,
        ConnectReturnCode::RefusedProtocolVersion => Some("refused: protocol version"),
        ConnectReturnCode::BadClientId => Some("refused: client id rejected"),
        ConnectReturnCode::ServiceUnavailable => Some("refused: server unavailable"),
        ConnectReturnCode::BadUserNamePassword => Some("refused: bad username or password"),
        ConnectReturnCode::NotAuthorized => Some("refused: not authorised"),
    }
}

/// A socket error as a reason a report counts, naming the limit it hit.
pub fn io_reason(e: &std::io::Error, phase: &str) -> String {
    use std::io::ErrorKind as K;
    match (e.raw_os_error(), e.kind()) {
        (Some(24), _) => "open-file limit reached (EMFILE)".into(),
        (Some(23), _) => "system open-file table full (ENFILE)".into(),
        (Some(99), _) => "no free local port on the source address (EADDRNOTAVAIL)".into(),
        (_, K::ConnectionRefused) => {
            format!("{phase}: connection refused (nothing listening or backlog full)")
        }
        (_, K::ConnectionReset) => format!("{phase}: connection reset by broker"),
        (_, K::UnexpectedEof) => format!("{phase}: closed by broker"),
        (_, K::BrokenPipe) => format!("{phase}: closed by broker"),
        (_, K::TimedOut) => format!("{phase}: timed out"),
        // TLS: rustls says what failed (certificate, alert from the broker).
        (_, K::InvalidData) => format!("{phase}: {e}"),
        _ => format!("{phase}: {}", e.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_bytes_decode_with_rumqttc() {
        let head = br#"{"device":"d1","seq":"#;
        let tail = vec![b'x'; 300]; // remaining length needs two bytes
        for pkid in [0u16, 7] {
            let mut out = Vec::new();
            publish(&mut out, b"a/b/telemetry", pkid, head, &tail, 42, 1_000);
            let mut buf = BytesMut::from(&out[..]);
            let Packet::Publish(p) = Packet::read(&mut buf, MAX_PACKET).unwrap() else {
                panic!("not a publish")
            };
            assert!(buf.is_empty());
            assert_eq!(p.topic, "a/b/telemetry");
            assert_eq!(p.pkid, pkid);
            assert_eq!(
                p.qos,
                if pkid == 0 {
                    QoS::AtMostOnce
                } else {
                    QoS::AtLeastOnce
                }
            );
            assert_eq!(
                super::super::pool::parse_stamps(&p.payload),
                Some((42, 1_000))
            );
        }
    }

    #[test]
    fn puback_decodes() {
        let mut out = Vec::new();
        puback(&mut out, 513);
        let mut buf = BytesMut::from(&out[..]);
        assert!(matches!(Packet::read(&mut buf, 100).unwrap(), Packet::PubAck(a) if a.pkid == 513));
    }
}
