//! The provisioned files against a real mosquitto (2.0, the Debian package
//! `mosquitto`; `FABTWIN_MOSQUITTO` may name another binary). Each test
//! starts its own broker as a child process on free loopback ports with the
//! generated `mosquitto.conf`, and kills it when done.
//!
//! Run as root (CI containers), mosquitto drops to user `mosquitto` before it
//! reads its files; provisioning as root gives that user's group access
//! ([`ProvisionOptions::new`] detects it), and the tests open their temporary
//! directory to it (`chmod 0711`, search only), as a user would have to.
//!
//! Nothing here sleeps to let something happen: a forbidden publish is
//! followed by an allowed marker from the same client, at QoS 1, and the
//! subscriber reads up to the marker. mosquitto handles one client's packets
//! in order and queues a delivery when it handles the PUBLISH, so anything it
//! had let through would arrive before the marker.

use std::collections::VecDeque;
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet, Publish, QoS,
    SubscribeReasonCode, Transport,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::tests::scenario;
use super::*;
use crate::topics::Topics;

/// Bound on every wait: a broker or client that takes longer is broken.
const WAIT: Duration = Duration::from_secs(10);

fn mosquitto_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("FABTWIN_MOSQUITTO") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "FABTWIN_MOSQUITTO={}: no such file; unset it to use the Debian package `mosquitto` (apt-get install mosquitto)",
            p.display()
        );
        return p;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::iter::once(PathBuf::from("/usr/sbin"))
        .chain(std::env::split_paths(&path))
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "mosquitto not found in /usr/sbin or PATH: these tests need a real broker; install the Debian package `mosquitto` (apt-get install mosquitto) or set FABTWIN_MOSQUITTO to its binary"
            )
        })
}

/// A mosquitto child process, killed on drop.
struct Mosquitto {
    child: Child,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts mosquitto with `p`'s config and waits until every listener accepts.
    async fn start(p: &Provisioned) -> Mosquitto {
        let log_dir = tempfile::tempdir().unwrap();
        let log = log_dir.path().join("mosquitto.log");
        let out = File::create(&log).unwrap();
        let child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(&p.config)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start mosquitto: {e}"));
        let mut m = Mosquitto {
            child,
            log,
            _log_dir: log_dir,
        };
        let deadline = Instant::now() + WAIT;
        for port in std::iter::once(p.port).chain(p.tls_port) {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Ok(Some(status)) = m.child.try_wait() {
                    panic!("mosquitto exited ({status}) before listening:\n{}", m.log());
                }
                assert!(
                    Instant::now() < deadline,
                    "mosquitto did not listen on 127.0.0.1:{port} within {WAIT:?}:\n{}",
                    m.log()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        m
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two distinct free loopback ports (both held while the second is chosen).
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// Provisions the test scenario under a fresh temporary directory.
fn provision(tls: bool) -> (tempfile::TempDir, Provisioned) {
    let root = tempfile::tempdir().unwrap();
    // A broker that dropped to user `mosquitto` must get through (search only).
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let sc = scenario();
    let mut opts = ProvisionOptions::new(&sc.name);
    opts.tls = tls;
    (opts.port, opts.tls_port) = free_ports();
    let p = provision_mosquitto(&sc, &Topics::default(), &root.path().join("broker"), &opts)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    (root, p)
}

/// Options for `who` on the plain listener, with its password.
fn plain(p: &Provisioned, who: &str) -> MqttOptions {
    let id = p.identity(who).unwrap();
    let mut o = MqttOptions::new(id.client_id.clone(), "127.0.0.1", p.port);
    o.set_keep_alive(Duration::from_secs(5));
    o.set_credentials(id.username.clone(), id.password.expose());
    o
}

/// Options for `who` on the TLS listener, with its client certificate (or none).
fn tls(p: &Provisioned, who: &str, with_cert: bool) -> MqttOptions {
    let id = p.identity(who).unwrap();
    let port = p.tls_port.unwrap();
    let mut o = MqttOptions::new(id.client_id.clone(), "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(5));
    let read = |f: &Path| std::fs::read(f).unwrap();
    let ca = read(&p.tls.as_ref().unwrap().ca);
    let client = id
        .certificate
        .as_ref()
        .filter(|_| with_cert)
        .map(|c| (read(&c.cert), read(&c.key)));
    o.set_transport(Transport::tls(ca, client, None));
    o
}

/// A connected client whose event loop runs in a task; incoming packets
/// arrive in order on a channel.
struct TestClient {
    name: String,
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<Packet>,
    inbox: VecDeque<Publish>,
    task: JoinHandle<()>,
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connects and waits for the CONNACK; a refusal or failure is the error
/// (boxed: rumqttc's error is large).
async fn connect(opts: MqttOptions) -> Result<TestClient, Box<ConnectionError>> {
    let name = opts.client_id();
    let (client, mut eventloop) = AsyncClient::new(opts, 16);
    let first = tokio::time::timeout(WAIT, async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(Box::new(e)),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{name}: neither CONNACK nor an error within {WAIT:?}"));
    first?;
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(p)) => {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return, // the channel closes: waits fail loudly
            }
        }
    });
    Ok(TestClient {
        name,
        client,
        rx,
        inbox: VecDeque::new(),
        task,
    })
}

impl TestClient {
    async fn next_packet(&mut self, waiting_for: &str) -> Packet {
        match tokio::time::timeout(WAIT, self.rx.recv()).await {
            Ok(Some(p)) => p,
            Ok(None) => panic!("{}: connection lost waiting for {waiting_for}", self.name),
            Err(_) => panic!("{}: no {waiting_for} within {WAIT:?}", self.name),
        }
    }

    /// Publishes at QoS 1 and waits for the PUBACK (which mosquitto sends
    /// for a publish the ACL drops, too).
    async fn publish(&mut self, topic: &str, payload: &str) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
            .await
            .unwrap();
        loop {
            match self.next_packet("PUBACK").await {
                Packet::PubAck(_) => return,
                Packet::Publish(p) => self.inbox.push_back(p),
                _ => {}
            }
        }
    }

    /// Subscribes at QoS 1 and waits for the SUBACK.
    async fn subscribe(&mut self, filter: &str) {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .unwrap();
        loop {
            match self.next_packet("SUBACK").await {
                Packet::SubAck(ack) => {
                    assert_eq!(
                        ack.return_codes,
                        [SubscribeReasonCode::Success(QoS::AtLeastOnce)],
                        "{}: SUBSCRIBE {filter}",
                        self.name
                    );
                    return;
                }
                Packet::Publish(p) => self.inbox.push_back(p),
                _ => {}
            }
        }
    }

    /// Every message received up to and including the first with `payload`.
    async fn receive_until(&mut self, payload: &str) -> Vec<(String, String)> {
        let mut got = Vec::new();
        loop {
            let p = match self.inbox.pop_front() {
                Some(p) => p,
                None => match self.next_packet(&format!("message `{payload}`")).await {
                    Packet::Publish(p) => p,
                    _ => continue,
                },
            };
            let text = String::from_utf8_lossy(&p.payload).into_owned();
            let done = text == payload;
            got.push((p.topic, text));
            if done {
                return got;
            }
        }
    }
}

fn assert_refused(r: Result<TestClient, Box<ConnectionError>>, what: &str) {
    match r.map_err(|e| *e) {
        Err(ConnectionError::ConnectionRefused(
            ConnectReturnCode::NotAuthorized | ConnectReturnCode::BadUserNamePassword,
        )) => {}
        Err(e) => panic!("{what}: expected CONNACK `not authorised`, got error {e}"),
        Ok(_) => panic!("{what}: the broker accepted it"),
    }
}

fn topic(p: &Provisioned, who: &str, device: &str, leaf: &str) -> String {
    let id = p.identity(who).unwrap();
    let t = Topics::default();
    let gateway = id.gateway.as_deref().unwrap();
    match leaf {
        "telemetry" => t.telemetry("s1", gateway, device),
        "cmd" => t.command("s1", gateway, device),
        "status" => t.status("s1", gateway, device),
        other => unreachable!("{other}"),
    }
}

#[tokio::test]
async fn mosquitto_accepts_the_generated_passwords_and_refuses_others() {
    let (_root, p) = provision(false);
    let broker = Mosquitto::start(&p).await;
    for id in &p.identities {
        if let Err(e) = connect(plain(&p, &id.username)).await {
            panic!("{} was refused: {e}\n{}", id.username, broker.log());
        }
    }
    let mut wrong = plain(&p, "gw1");
    wrong.set_credentials("gw1", "not-the-password");
    assert_refused(connect(wrong).await, "gw1 with a wrong password");
    let mut borrowed = plain(&p, "gw1");
    borrowed.set_credentials("gw1", p.identity("m3").unwrap().password.expose());
    assert_refused(connect(borrowed).await, "gw1 with m3's password");
    let mut unknown = plain(&p, "gw1");
    unknown.set_credentials("gw9", p.identity("gw1").unwrap().password.expose());
    assert_refused(connect(unknown).await, "an unknown username");
    let anonymous = MqttOptions::new("anonymous", "127.0.0.1", p.port);
    assert_refused(connect(anonymous).await, "an anonymous client");
}

#[tokio::test]
async fn mosquitto_confines_each_identity_to_its_own_topics() {
    let (_root, p) = provision(false);
    let broker = Mosquitto::start(&p).await;
    let mut admin = connect(plain(&p, "admin")).await.unwrap();
    let mut gw1 = connect(plain(&p, "gw1")).await.unwrap();
    let mut m3 = connect(plain(&p, "m3")).await.unwrap();
    admin.subscribe("#").await;
    // SUBSCRIBE is never denied; the ACL filters each message instead.
    gw1.subscribe("#").await;
    m3.subscribe(&topic(&p, "m3", "m3", "cmd")).await;

    // Own telemetry reaches the admin, from a gateway and a device session.
    let m1_telemetry = topic(&p, "gw1", "m1", "telemetry");
    let m3_telemetry = topic(&p, "m3", "m3", "telemetry");
    gw1.publish(&m1_telemetry, "gw1-own").await;
    m3.publish(&m3_telemetry, "m3-own").await;
    assert_eq!(
        admin.receive_until("gw1-own").await,
        [(m1_telemetry.clone(), "gw1-own".to_string())]
    );
    assert_eq!(
        admin.receive_until("m3-own").await,
        [(m3_telemetry.clone(), "m3-own".to_string())]
    );

    // gw1 on another identity's topics: acknowledged, dropped.
    let forbidden = [
        m3_telemetry.clone(),
        topic(&p, "m3", "m3", "status"),
        topic(&p, "m3", "m3", "cmd"),
        topic(&p, "gw1", "m1", "cmd"),
        Topics::default().gateway_status("s1", "gw2"),
    ];
    for t in &forbidden {
        gw1.publish(t, "forbidden").await;
    }
    // m3 on its sibling's telemetry (same gateway, other device session).
    m3.publish(&topic(&p, "m4", "m4", "telemetry"), "forbidden")
        .await;
    m3.publish(&m3_telemetry, "m3-marker").await;
    gw1.publish(&m1_telemetry, "gw1-marker").await;
    // m3's marker was acknowledged, so handled, before gw1 sent its own.
    assert_eq!(
        admin.receive_until("gw1-marker").await,
        [
            (m3_telemetry.clone(), "m3-marker".to_string()),
            (m1_telemetry.clone(), "gw1-marker".to_string()),
        ],
        "a publish outside the sender's topics was delivered\n{}",
        broker.log()
    );

    // Reading: m3 gets its own command; gw1, subscribed to `#`, gets nothing
    // of m3's (telemetry, commands) and only its own device's command.
    let m3_cmd = topic(&p, "m3", "m3", "cmd");
    admin.publish(&m3_cmd, "cmd-for-m3").await;
    assert_eq!(
        m3.receive_until("cmd-for-m3").await,
        [(m3_cmd.clone(), "cmd-for-m3".to_string())]
    );
    let m1_cmd = topic(&p, "gw1", "m1", "cmd");
    admin.publish(&m1_cmd, "cmd-for-m1").await;
    assert_eq!(
        gw1.receive_until("cmd-for-m1").await,
        [(m1_cmd, "cmd-for-m1".to_string())],
        "gw1 read something that is not its own command"
    );

    // The broker (perhaps as user `mosquitto`) can write its persistence
    // directory: it saves on a clean shutdown (SIGTERM), whatever the interval.
    let db = p.data.join("mosquitto.db");
    let _ = Command::new("kill")
        .args(["-TERM", &broker.child.id().to_string()])
        .status();
    let deadline = Instant::now() + WAIT;
    while !db.exists() {
        assert!(
            Instant::now() < deadline,
            "{} not written within {WAIT:?}:\n{}",
            db.display(),
            broker.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn mosquitto_takes_client_certificates_as_identities() {
    let (_root, p) = provision(true);
    let broker = Mosquitto::start(&p).await;
    let mut admin = connect(tls(&p, "admin", true))
        .await
        .unwrap_or_else(|e| panic!("admin over TLS: {e}\n{}", broker.log()));
    let mut gw1 = connect(tls(&p, "gw1", true))
        .await
        .unwrap_or_else(|e| panic!("gw1 over TLS: {e}\n{}", broker.log()));
    admin.subscribe("#").await;

    let own = topic(&p, "gw1", "m2", "telemetry");
    gw1.publish(&own, "over-tls").await;
    assert_eq!(
        admin.receive_until("over-tls").await,
        [(own.clone(), "over-tls".to_string())]
    );
    // The certificate's CN is the username, so the ACL holds over TLS too.
    gw1.publish(&topic(&p, "m3", "m3", "telemetry"), "forbidden")
        .await;
    gw1.publish(&own, "tls-marker").await;
    assert_eq!(
        admin.receive_until("tls-marker").await,
        [(own, "tls-marker".to_string())],
        "a publish outside gw1's topics was delivered"
    );

    // No certificate, no connection (even with a valid password).
    let mut no_cert = tls(&p, "gw1", false);
    no_cert.set_credentials("gw1", p.identity("gw1").unwrap().password.expose());
    match connect(no_cert).await {
        // TLS 1.3: the client finishes its side, then reads the broker's alert.
        Err(e) => assert!(
            format!("{e:?}").contains("CertificateRequired"),
            "refused, but not for the missing certificate: {e:?}\n{}",
            broker.log()
        ),
        Ok(_) => panic!("a client without a certificate was let in"),
    }
    // The plain listener still takes passwords beside it.
    connect(plain(&p, "m4")).await.unwrap();
}
