//! `fabtwin view`: without the `view` feature it explains how to build the
//! twin; with it, the quickstart renders under Xvfb (software Vulkan) into a
//! screenshot that is not blank, after the twin mirrored the simulation's
//! devices from the broker.

use super::{fabtwin, text};

#[cfg(not(feature = "view"))]
#[test]
fn without_the_feature_view_says_how_to_build_it() {
    let o = fabtwin(&["view", "scenarios/quickstart.ron"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--features view"), "{err}");
}

#[cfg(feature = "view")]
#[test]
fn bad_view_flags_are_refused_with_what_is_valid() {
    let o = fabtwin(&["view", "scenarios/quickstart.ron", "--size", "huge"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("WIDTHxHEIGHT"),
        "{}",
        text(&o)
    );
    let o = fabtwin(&["view"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--broker"),
        "{}",
        text(&o)
    );
}

#[cfg(feature = "view")]
#[test]
fn the_quickstart_renders_to_a_screenshot_that_is_not_blank() {
    use std::process::Command;
    let dir = super::tempdir();
    let png = dir.path().join("quickstart.png");
    let o = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24"])
        .arg(env!("CARGO_BIN_EXE_fabtwin"))
        .args([
            "view",
            "scenarios/quickstart.ron",
            "--speed",
            "2000x",
            "--frames",
            "40",
            "--screenshot",
        ])
        .arg(&png)
        .current_dir(super::root())
        .env("WGPU_BACKEND", "vulkan")
        .output()
        .expect("xvfb-run runs (Debian package xvfb)");
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // The twin heard every quickstart device through the broker.
    assert!(
        out.contains("mirrored") && out.contains(" 4 devices"),
        "{out}"
    );

    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("the screenshot was written"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("one frame");
    assert_eq!((info.width, info.height), (1280, 720));
    let px: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut distinct: Vec<[u8; 3]> = px.iter().step_by(7).copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        distinct.len() > 200,
        "only {} colours: blank",
        distinct.len()
    );
    // Some pixels are clearly green (a healthy machine's colour) and the panel's text is light.
    let green = px
        .iter()
        .filter(|p| p[1] > 100 && p[1] as u16 > p[0] as u16 + 40 && p[1] > p[2] + 30)
        .count();
    let light = px.iter().filter(|p| p.iter().all(|&c| c > 180)).count();
    assert!(green > 200, "{green} green pixels");
    assert!(light > 100, "{light} light pixels");
}
