//! Sparkplug B topics: `spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]`
//! (SP4 "Topic Namespace Elements").

use std::fmt;

use super::CodecError;

/// The first topic level of every Sparkplug B 1.0 topic.
pub const NAMESPACE: &str = "spBv1.0";

/// The message types an edge node sends or receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageType {
    /// Edge node birth certificate.
    NBirth,
    /// Edge node data.
    NData,
    /// Edge node death certificate (the CONNECT will).
    NDeath,
    /// Device birth certificate.
    DBirth,
    /// Device data.
    DData,
    /// Device death certificate.
    DDeath,
    /// Command to the edge node.
    NCmd,
    /// Command to a device.
    DCmd,
}

impl MessageType {
    /// Every message type.
    pub const ALL: [MessageType; 8] = [
        MessageType::NBirth,
        MessageType::NData,
        MessageType::NDeath,
        MessageType::DBirth,
        MessageType::DData,
        MessageType::DDeath,
        MessageType::NCmd,
        MessageType::DCmd,
    ];

    /// The topic level, e.g. `NBIRTH`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::NBirth => "NBIRTH",
            MessageType::NData => "NDATA",
            MessageType::NDeath => "NDEATH",
            MessageType::DBirth => "DBIRTH",
            MessageType::DData => "DDATA",
            MessageType::DDeath => "DDEATH",
            MessageType::NCmd => "NCMD",
            MessageType::DCmd => "DCMD",
        }
    }

    /// The type whose topic level is `s` (case-sensitive, as topics are).
    pub fn from_level(s: &str) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the topic names a device (`D*` types need a device id, `N*` forbid one).
    pub fn is_device(self) -> bool {
        matches!(
            self,
            MessageType::DBirth | MessageType::DData | MessageType::DDeath | MessageType::DCmd
        )
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a Sparkplug id (group, edge node or device): non-empty UTF-8 without
/// `+`, `/` or `#` (SP4 `tck-id-topic-structure-namespace-valid-*`). `what`
/// names the id in the error (`group_id`, `edge_node_id`, `device_id`).
pub fn validate_id(what: &'static str, id: &str) -> Result<(), CodecError> {
    let problem = if id.is_empty() {
        Some("it is empty".to_string())
    } else {
        id.chars()
            .find(|c| matches!(c, '+' | '/' | '#'))
            .map(|c| format!("it contains `{c}`"))
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(CodecError::InvalidId {
            what,
            id: id.to_string(),
            problem,
        }),
    }
}

/// A validated Sparkplug B topic.
///
/// ```
/// use fabtwin_bridge::codec::sparkplug::{MessageType, Topic};
/// let t = Topic::device("plant1", MessageType::DData, "gw1", "pump01").unwrap();
/// assert_eq!(t.to_string(), "spBv1.0/plant1/DDATA/gw1/pump01");
/// assert_eq!(Topic::parse("spBv1.0/plant1/DDATA/gw1/pump01").unwrap(), t);
/// assert!(Topic::node("plant1", MessageType::NBirth, "gw/1").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Topic {
    group_id: String,
    message_type: MessageType,
    edge_node_id: String,
    device_id: Option<String>,
}

impl Topic {
    /// An edge-node topic (`N*` types).
    pub fn node(
        group_id: &str,
        message_type: MessageType,
        edge_node_id: &str,
    ) -> Result<Topic, CodecError> {
        Topic::new(group_id, message_type, edge_node_id, None)
    }

    /// A device topic (`D*` types).
    pub fn device(
        group_id: &str,
        message_type: MessageType,
        edge_node_id: &str,
        device_id: &str,
    ) -> Result<Topic, CodecError> {
        Topic::new(group_id, message_type, edge_node_id, Some(device_id))
    }

    /// Any topic: `device_id` must be given for `D*` types and absent for `N*` types.
    pub fn new(
        group_id: &str,
        message_type: MessageType,
        edge_node_id: &str,
        device_id: Option<&str>,
    ) -> Result<Topic, CodecError> {
        validate_id("group_id", group_id)?;
        validate_id("edge_node_id", edge_node_id)?;
        if let Some(d) = device_id {
            validate_id("device_id", d)?;
        }
        if message_type.is_device() != device_id.is_some() {
            return Err(CodecError::DeviceIdPlacement {
                message_type,
                device_id: device_id.map(str::to_string),
            });
        }
        Ok(Topic {
            group_id: group_id.to_string(),
            message_type,
            edge_node_id: edge_node_id.to_string(),
            device_id: device_id.map(str::to_string),
        })
    }

    /// Parses an edge-node or device topic (not `STATE`).
    pub fn parse(topic: &str) -> Result<Topic, CodecError> {
        let bad = |problem: &str| CodecError::InvalidTopic {
            topic: topic.to_string(),
            problem: problem.to_string(),
        };
        let levels: Vec<&str> = topic.split('/').collect();
        if levels.first() != Some(&NAMESPACE) {
            return Err(bad("it does not start with `spBv1.0/`"));
        }
        if !(4..=5).contains(&levels.len()) {
            return Err(bad(
                "it has the wrong number of levels (valid: spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>])",
            ));
        }
        let message_type = MessageType::from_level(levels[2]).ok_or_else(|| {
            bad(&format!(
                "`{}` is not an edge message type (valid: NBIRTH, NDATA, NDEATH, DBIRTH, DDATA, DDEATH, NCMD, DCMD)",
                levels[2]
            ))
        })?;
        Topic::new(levels[1], message_type, levels[3], levels.get(4).copied())
    }

    /// The group id.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// The edge node id.
    pub fn edge_node_id(&self) -> &str {
        &self.edge_node_id
    }

    /// The device id (`D*` types only).
    pub fn device_id(&self) -> Option<&str> {
        self.device_id.as_deref()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{NAMESPACE}/{}/{}/{}",
            self.group_id, self.message_type, self.edge_node_id
        )?;
        if let Some(d) = &self.device_id {
            write!(f, "/{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_type() {
        for t in MessageType::ALL {
            let topic = if t.is_device() {
                Topic::device("g", t, "e", "d").expect("valid").to_string()
            } else {
                Topic::node("g", t, "e").expect("valid").to_string()
            };
            let want = if t.is_device() {
                format!("spBv1.0/g/{t}/e/d")
            } else {
                format!("spBv1.0/g/{t}/e")
            };
            assert_eq!(topic, want);
            assert_eq!(Topic::parse(&topic).expect("parses").to_string(), topic);
        }
    }

    #[test]
    fn rejects_bad_ids_with_a_clear_error() {
        for bad in ["", "a+b", "a/b", "a#", "#", "+"] {
            let e = Topic::node(bad, MessageType::NBirth, "e")
                .expect_err(bad)
                .to_string();
            assert!(e.starts_with("group_id `"), "{e}");
            assert!(e.contains("not a valid Sparkplug id"), "{e}");
            let e = Topic::node("g", MessageType::NBirth, bad)
                .expect_err(bad)
                .to_string();
            assert!(e.starts_with("edge_node_id `"), "{e}");
            let e = Topic::device("g", MessageType::DData, "e", bad)
                .expect_err(bad)
                .to_string();
            assert!(e.starts_with("device_id `"), "{e}");
        }
        let e = Topic::node("a/b", MessageType::NBirth, "e")
            .expect_err("slash")
            .to_string();
        assert_eq!(
            e,
            "group_id `a/b` is not a valid Sparkplug id: it contains `/` (valid: non-empty UTF-8 without `+`, `/` or `#`)"
        );
        // UTF-8 and case are fine.
        assert!(Topic::node("Ünïcode", MessageType::NData, "Edge-1").is_ok());
    }

    #[test]
    fn device_id_only_on_device_types() {
        let e = Topic::new("g", MessageType::NBirth, "e", Some("d")).expect_err("N* with device");
        assert!(e.to_string().contains("NBIRTH"), "{e}");
        let e = Topic::new("g", MessageType::DData, "e", None).expect_err("D* without device");
        assert!(e.to_string().contains("DDATA needs a device_id"), "{e}");
    }

    #[test]
    fn parse_rejects_what_is_not_an_edge_topic() {
        for bad in [
            "spBv1.0/STATE/host",
            "spBv1.0/g/NBIRTH",
            "spBv1.0/g/NBIRTH/e/d",
            "spBv1.0/g/DDATA/e",
            "spBv1.0/g/ddata/e/d",
            "spBv1.0/g/DDATA/e/d/x",
            "fabtwin/g/DDATA/e/d",
            "spBv1.0/g/DDATA//d",
            "",
        ] {
            assert!(Topic::parse(bad).is_err(), "{bad}");
        }
        let t = Topic::parse("spBv1.0/g/NCMD/e").expect("valid");
        assert_eq!(
            (
                t.group_id(),
                t.message_type(),
                t.edge_node_id(),
                t.device_id()
            ),
            ("g", MessageType::NCmd, "e", None)
        );
    }
}
