//! `fabtwin new`: starter scenarios are valid and runnable.

use super::{fabtwin, tempdir, text};

#[test]
fn starter_scenarios_check_and_run() {
    let dir = tempdir();
    for (n, faults) in [(1, false), (23, true)] {
        let file = dir.path().join(format!("s{n}.ron")).display().to_string();
        let count = n.to_string();
        let mut args = vec![
            "new",
            "--machines",
            &count,
            "--out",
            &file,
            "--name",
            "starter",
        ];
        if faults {
            args.push("--with-faults");
        }
        let o = fabtwin(&args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let o = fabtwin(&["check", &file]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("ok ({n} machines)")));
        let out = dir.path().join(format!("out{n}")).display().to_string();
        let o = fabtwin(&["run", &file, "--out", &out]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    // Never overwrites.
    let file = dir.path().join("s1.ron").display().to_string();
    let o = fabtwin(&["new", "--out", &file]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
}
