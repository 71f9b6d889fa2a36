//! The CLI around the commands: shell completions and man pages.

use super::{fabtwin, tempdir, text};

#[test]
fn completions_for_every_shell_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = fabtwin(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", text(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        for word in ["fabtwin", "dataset", "verify", "drain-timeout"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let o = fabtwin(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("possible values"), "{}", text(&o));
}

#[test]
fn man_pages_cover_the_binary_and_each_command() {
    let dir = tempdir();
    let out = dir.path().join("man");
    let o = fabtwin(&["man", "--out", &out.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for page in [
        "fabtwin.1",
        "fabtwin-run.1",
        "fabtwin-verify.1",
        "fabtwin-dataset.1",
    ] {
        let roff =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(
            roff.starts_with(".ie") || roff.contains(".TH"),
            "{page} is not roff"
        );
    }
    let run = std::fs::read_to_string(out.join("fabtwin-run.1")).unwrap();
    assert!(
        run.contains("drain\\-timeout"),
        "the run page lists its flags"
    );
}
