//! Provisioning without a broker: the hash format, the plan, the files and
//! their modes, and the refusals. `broker_tests` proves it all against mosquitto.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use fabtwin_sim::scenario::Scenario;

use super::password::{Password, hash_with_salt};
use super::*;
use crate::topics::Topics;

/// Two gateways on one site: `gw1` one session for `m1`, `m2`; `gw2` one
/// session per device for `m3`, `m4`.
pub(super) const SCENARIO: &str = r#"Scenario(
    name: "prov",
    duration: "1h",
    sites: [(id: "s1", lines: [(id: "l1", machines: [
        (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB")]),
        (id: "m2", kind: Pump, rated_speed_rpm: 2950, sensors: [(id: "vib", part: "IIS3DWB")]),
        (id: "m3", kind: Fan, rated_speed_rpm: 980, sensors: [(id: "vib", part: "IIS3DWB")]),
        (id: "m4", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB")]),
    ])])],
    gateways: [
        (id: "gw1", machines: ["m1", "m2"]),
        (id: "gw2", machines: ["m3", "m4"], session: PerDevice),
    ],
)"#;

pub(super) fn scenario() -> Scenario {
    fabtwin_sim::scenario::from_str(SCENARIO, "prov.ron").expect("the test scenario is valid")
}

/// Options writing the broker's files for the current user's own group, so
/// the group path runs without root.
fn options() -> ProvisionOptions {
    let mut o = ProvisionOptions::new("prov");
    o.broker_gid = None;
    o
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn hash_matches_mosquitto_passwd() {
    // `mosquitto_passwd -c -b f alice secret` (2.0.11) wrote this line.
    let line = "alice:$7$101$WLgR/WnWm1Q+RheL$Ipa3SKRJN0AVKSQtxu+WrxplA1cRMmvk+D2Dl5saaw1j+0i0Cmr82/iHibI6GJxzx1Ix6vrHnHUxbREofW1QEA==";
    use base64::Engine;
    let salt = base64::engine::general_purpose::STANDARD
        .decode("WLgR/WnWm1Q+RheL")
        .unwrap();
    assert_eq!(
        format!("alice:{}", hash_with_salt("secret", &salt, 101)),
        line
    );
}

#[test]
fn passwords_are_random_long_plain_and_redacted() {
    let a = Password::generate().unwrap();
    let b = Password::generate().unwrap();
    assert_ne!(a, b);
    assert_eq!(a.expose().len(), 43, "32 bytes of base64 without padding");
    assert!(
        a.expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_eq!(format!("{a:?}"), "Password(<redacted>)");
}

#[test]
fn plan_follows_the_fleet_layout() {
    let p = plan::plan(&scenario(), &Topics::default(), "fabtwin-prov-", "admin").unwrap();
    let names: Vec<(&str, &str, Role)> = p
        .iter()
        .map(|a| (a.username.as_str(), a.client_id.as_str(), a.role))
        .collect();
    assert_eq!(
        names,
        [
            ("admin", "fabtwin-prov-admin", Role::Admin),
            ("gw1", "fabtwin-prov-gw1", Role::Gateway),
            ("m3", "fabtwin-prov-m3", Role::Device),
            ("m4", "fabtwin-prov-m4", Role::Device),
        ]
    );
    let gw1 = &p[1];
    assert_eq!(gw1.devices, ["m1", "m2"]);
    assert_eq!(
        gw1.write,
        [
            "fabtwin/s1/gw1/status",
            "fabtwin/s1/gw1/heartbeat",
            "fabtwin/s1/gw1/m1/telemetry",
            "fabtwin/s1/gw1/m1/meta",
            "fabtwin/s1/gw1/m1/status",
            "fabtwin/s1/gw1/m1/reply",
            "fabtwin/s1/gw1/m2/telemetry",
            "fabtwin/s1/gw1/m2/meta",
            "fabtwin/s1/gw1/m2/status",
            "fabtwin/s1/gw1/m2/reply",
        ]
    );
    assert_eq!(gw1.read, ["fabtwin/s1/gw1/m1/cmd", "fabtwin/s1/gw1/m2/cmd"]);
    let m3 = &p[2];
    assert_eq!(m3.gateway.as_deref(), Some("gw2"));
    assert_eq!(
        m3.write,
        [
            "fabtwin/s1/gw2/m3/telemetry",
            "fabtwin/s1/gw2/m3/meta",
            "fabtwin/s1/gw2/m3/status",
            "fabtwin/s1/gw2/m3/reply",
            "fabtwin/s1/gw2/m3/heartbeat",
        ],
        "a PerDevice session does not publish its gateway's status"
    );
    assert_eq!(m3.read, ["fabtwin/s1/gw2/m3/cmd"]);
    assert_eq!(p[0].read, ["#"]);
    assert_eq!(
        p[0].write,
        [
            "fabtwin/s1/gw1/m1/cmd",
            "fabtwin/s1/gw1/m2/cmd",
            "fabtwin/s1/gw2/m3/cmd",
            "fabtwin/s1/gw2/m4/cmd",
        ]
    );
}

#[test]
fn writes_an_acl_of_exact_topics_per_user() {
    let root = tempfile::tempdir().unwrap();
    let p = provision_mosquitto(
        &scenario(),
        &Topics::default(),
        &root.path().join("b"),
        &options(),
    )
    .unwrap();
    let acl = std::fs::read_to_string(&p.acl).unwrap();
    let rules: Vec<&str> = acl
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        rules,
        [
            "user admin",
            "topic write fabtwin/s1/gw1/m1/cmd",
            "topic write fabtwin/s1/gw1/m2/cmd",
            "topic write fabtwin/s1/gw2/m3/cmd",
            "topic write fabtwin/s1/gw2/m4/cmd",
            "topic read #",
            "user gw1",
            "topic write fabtwin/s1/gw1/status",
            "topic write fabtwin/s1/gw1/heartbeat",
            "topic write fabtwin/s1/gw1/m1/telemetry",
            "topic write fabtwin/s1/gw1/m1/meta",
            "topic write fabtwin/s1/gw1/m1/status",
            "topic write fabtwin/s1/gw1/m1/reply",
            "topic write fabtwin/s1/gw1/m2/telemetry",
            "topic write fabtwin/s1/gw1/m2/meta",
            "topic write fabtwin/s1/gw1/m2/status",
            "topic write fabtwin/s1/gw1/m2/reply",
            "topic read fabtwin/s1/gw1/m1/cmd",
            "topic read fabtwin/s1/gw1/m2/cmd",
            "user m3",
            "topic write fabtwin/s1/gw2/m3/telemetry",
            "topic write fabtwin/s1/gw2/m3/meta",
            "topic write fabtwin/s1/gw2/m3/status",
            "topic write fabtwin/s1/gw2/m3/reply",
            "topic write fabtwin/s1/gw2/m3/heartbeat",
            "topic read fabtwin/s1/gw2/m3/cmd",
            "user m4",
            "topic write fabtwin/s1/gw2/m4/telemetry",
            "topic write fabtwin/s1/gw2/m4/meta",
            "topic write fabtwin/s1/gw2/m4/status",
            "topic write fabtwin/s1/gw2/m4/reply",
            "topic write fabtwin/s1/gw2/m4/heartbeat",
            "topic read fabtwin/s1/gw2/m4/cmd",
        ]
    );
}

#[test]
fn writes_a_config_the_notes_recommend() {
    let root = tempfile::tempdir().unwrap();
    let mut o = options();
    o.port = 21883;
    let plain =
        provision_mosquitto(&scenario(), &Topics::default(), &root.path().join("a"), &o).unwrap();
    let conf = std::fs::read_to_string(&plain.config).unwrap();
    let dir = plain.dir.display();
    for line in [
        "allow_anonymous false".to_string(),
        "per_listener_settings false".to_string(),
        format!("password_file {dir}/passwd"),
        format!("acl_file {dir}/acl"),
        "persistence true".to_string(),
        format!("persistence_location {dir}/data"),
        "autosave_on_changes true".to_string(),
        "autosave_interval 100".to_string(),
        "max_queued_messages 1000000".to_string(),
        "listener 21883 127.0.0.1".to_string(),
    ] {
        assert!(
            conf.lines().any(|l| l == line),
            "missing `{line}` in\n{conf}"
        );
    }
    assert!(!conf.contains("require_certificate"));
    assert!(plain.tls.is_none() && plain.tls_port.is_none());

    o.tls = true;
    o.tls_port = 28883;
    let tls =
        provision_mosquitto(&scenario(), &Topics::default(), &root.path().join("b"), &o).unwrap();
    let conf = std::fs::read_to_string(&tls.config).unwrap();
    let dir = tls.dir.display();
    for line in [
        "listener 28883 127.0.0.1".to_string(),
        format!("cafile {dir}/tls/ca.crt"),
        format!("certfile {dir}/tls/server.crt"),
        format!("keyfile {dir}/tls/server.key"),
        "require_certificate true".to_string(),
        "use_identity_as_username true".to_string(),
    ] {
        assert!(
            conf.lines().any(|l| l == line),
            "missing `{line}` in\n{conf}"
        );
    }
    assert!(
        !tls.dir.join("tls/ca.key").exists(),
        "the CA key is never written"
    );
}

#[test]
fn secrets_stay_in_mode_0600_files_and_out_of_the_index_and_debug() {
    let root = tempfile::tempdir().unwrap();
    let mut o = options();
    o.tls = true;
    o.tls_port = 8884;
    let p =
        provision_mosquitto(&scenario(), &Topics::default(), &root.path().join("b"), &o).unwrap();
    let index = std::fs::read_to_string(&p.index).unwrap();
    let debug = format!("{p:?}");
    let readme = std::fs::read_to_string(&p.readme).unwrap();
    let passwd = std::fs::read_to_string(&p.passwd).unwrap();
    let json: serde_json::Value = serde_json::from_str(&index).unwrap();
    assert_eq!(p.identities.len(), 4);
    for id in &p.identities {
        let secret = id.password.expose();
        for (what, text) in [("index", &index), ("Debug", &debug), ("README", &readme)] {
            assert!(
                !text.contains(secret),
                "{}'s password is in the {what}",
                id.username
            );
        }
        assert_eq!(
            std::fs::read_to_string(&id.password_file).unwrap(),
            format!("{secret}\n")
        );
        assert_eq!(read_password(&id.password_file).unwrap(), id.password);
        assert_eq!(mode(&id.password_file), 0o600);
        let cert = id.certificate.as_ref().unwrap();
        assert_eq!(mode(&cert.key), 0o600);
        assert!(
            std::fs::read_to_string(&cert.key)
                .unwrap()
                .contains("PRIVATE KEY")
        );

        // The index points at the files, never at the secret.
        let entry = &json["identities"][&id.username];
        assert_eq!(entry["client_id"], id.client_id.as_str());
        assert_eq!(entry["password_file"], id.password_file.to_str().unwrap());
        assert_eq!(entry["key"], cert.key.to_str().unwrap());
        assert_eq!(entry["devices"].as_array().unwrap().len(), id.devices.len());

        // passwd: the line mosquitto will check the password against.
        let line = passwd
            .lines()
            .find(|l| l.starts_with(&format!("{}:", id.username)))
            .unwrap();
        let parts: Vec<&str> = line.split('$').collect();
        assert_eq!(
            parts[..3],
            [&format!("{}:", id.username) as &str, "7", "101"]
        );
        use base64::Engine;
        let salt = base64::engine::general_purpose::STANDARD
            .decode(parts[3])
            .unwrap();
        assert_eq!(salt.len(), 12);
        assert_eq!(
            format!("{}:{}", id.username, hash_with_salt(secret, &salt, 101)),
            line
        );
    }
    assert_eq!(json["broker"]["tls_port"], 8884);
    assert_eq!(mode(&p.dir.join("credentials")), 0o700);
    assert_eq!(mode(&p.passwd), 0o600);
    assert_eq!(mode(&p.acl), 0o600);
    assert_eq!(mode(&p.tls.as_ref().unwrap().key), 0o600);
    assert_eq!(mode(&p.dir), 0o700);
    assert_eq!(mode(&p.data), 0o700);
    assert!(p.warnings.is_empty());
}

#[test]
fn a_broker_group_may_read_the_broker_files_but_not_the_client_secrets() {
    let root = tempfile::tempdir().unwrap();
    // A group this process may give files to without root: its own.
    let own_gid = std::fs::metadata(root.path()).unwrap().gid();
    let mut o = options();
    o.tls = true;
    o.tls_port = 8884;
    o.broker_gid = Some(own_gid);
    let p =
        provision_mosquitto(&scenario(), &Topics::default(), &root.path().join("b"), &o).unwrap();
    let tls = p.tls.as_ref().unwrap();
    for (path, want) in [
        (&p.dir, 0o750),
        (&p.data, 0o770),
        (&p.passwd, 0o640),
        (&p.acl, 0o640),
        (&tls.key, 0o640),
        (&p.dir.join("tls"), 0o750),
    ] {
        assert_eq!(mode(path), want, "{}", path.display());
        assert_eq!(std::fs::metadata(path).unwrap().gid(), own_gid);
    }
    assert_eq!(mode(&p.dir.join("credentials")), 0o700);
    for id in &p.identities {
        assert_eq!(mode(&id.password_file), 0o600);
        assert_eq!(mode(&id.certificate.as_ref().unwrap().key), 0o600);
    }
    let readme = std::fs::read_to_string(&p.readme).unwrap();
    assert!(readme.contains(&format!("group {own_gid}")));
}

#[test]
fn warns_when_the_broker_group_cannot_reach_the_directory() {
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut o = options();
    // A group that owns nothing here: only "others" bits count for it.
    o.broker_gid = Some(std::fs::metadata(root.path()).unwrap().gid() + 1);
    let p = match provision_mosquitto(&scenario(), &Topics::default(), &root.path().join("b"), &o) {
        Ok(p) => p,
        // Without root this process cannot give files to a foreign group.
        Err(ProvisionError::Io { action, .. }) if !files::running_as_root() => {
            assert_eq!(action, "give the broker's group");
            assert!(
                !root.path().join("b").exists(),
                "a failed run leaves nothing"
            );
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(p.warnings[0].starts_with(&format!("{}: ", root.path().display())));
}

#[test]
fn refuses_a_non_empty_directory_and_touches_nothing() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("passwd"), "keep me").unwrap();
    let e =
        provision_mosquitto(&scenario(), &Topics::default(), root.path(), &options()).unwrap_err();
    assert!(matches!(e, ProvisionError::NotEmpty { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the output directory is not empty; provision writes a fresh directory and never overwrites one (choose a new --out, or remove this one)",
            root.path().display()
        )
    );
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(root.path().join("passwd")).unwrap(),
        "keep me"
    );

    let file = root.path().join("passwd");
    let e = provision_mosquitto(&scenario(), &Topics::default(), &file, &options()).unwrap_err();
    assert!(matches!(e, ProvisionError::NotADirectory { .. }), "{e}");
}

#[test]
fn fills_an_existing_empty_directory() {
    let root = tempfile::tempdir().unwrap();
    let p = provision_mosquitto(&scenario(), &Topics::default(), root.path(), &options()).unwrap();
    assert_eq!(p.dir, std::fs::canonicalize(root.path()).unwrap());
    assert!(p.config.exists() && p.readme.exists() && p.index.exists());
}

#[test]
fn refuses_identities_that_would_share_a_username() {
    // Gateway `m2` (one session) and device `m2` (its own session) collide.
    let src = SCENARIO
        .replace(
            r#"(id: "gw1", machines: ["m1", "m2"])"#,
            r#"(id: "m2", machines: ["m1"])"#,
        )
        .replace(r#"["m3", "m4"]"#, r#"["m2", "m3", "m4"]"#);
    let sc = fabtwin_sim::scenario::from_str(&src, "dup.ron").unwrap();
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("b");
    let e = provision_mosquitto(&sc, &Topics::default(), &out, &options()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "username `m2` would belong to both gateway m2 and device m2 (gateway gw2, PerDevice); every gateway (PerGateway) and device (PerDevice) id that becomes a username must be distinct, and differ from the admin's"
    );
    assert!(!out.exists(), "nothing is written before the plan holds");

    let mut o = options();
    o.admin_username = "gw1".into();
    let e = provision_mosquitto(&scenario(), &Topics::default(), &out, &o).unwrap_err();
    assert!(
        matches!(&e, ProvisionError::DuplicateUsername { username, .. } if username == "gw1"),
        "{e}"
    );
}

#[test]
fn refuses_bad_options() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("b");
    let run = |o: &ProvisionOptions, topics: &Topics| {
        provision_mosquitto(&scenario(), topics, &out, o)
            .unwrap_err()
            .to_string()
    };
    let t = Topics::default();
    let mut o = options();
    o.port = 0;
    assert_eq!(
        run(&o, &t),
        "port: 0 is not a listener port (valid: 1 … 65535)"
    );
    let mut o = options();
    o.tls = true;
    o.tls_port = o.port;
    assert_eq!(
        run(&o, &t),
        "tls_port: 1883 is also the plain listener's port; they must differ"
    );
    let mut o = options();
    o.admin_username = "ad min".into();
    assert!(run(&o, &t).starts_with("admin_username: `ad min` is not usable as an MQTT username"));
    assert!(
        run(&options(), &Topics::new("plant/+"))
            .starts_with("topics: topic `plant/+/s1/gw1/m1/cmd` contains an MQTT wildcard"),
    );
    assert!(!out.exists());
}
