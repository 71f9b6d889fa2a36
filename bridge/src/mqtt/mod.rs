//! MQTT: the embedded broker, broker URLs, sessions that own their messages
//! until PUBACK, and the verifying subscriber.

pub mod broker;
pub mod durable;
pub mod fleet;
pub mod outbox;
pub mod proxy;
pub mod session;
pub mod sparkplug;
pub mod url;
pub mod verify;
