//! Writing the output directory with the right owners and modes.
//!
//! Every file is created new (`O_EXCL`) with mode 0600 and only then opened
//! up to what it needs, so a secret is never readable by anyone else, not
//! even for a moment, and nothing existing is ever overwritten. Modes are set
//! explicitly after creation, so the umask does not change them.

use std::fs::{self, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::ProvisionError;

/// Whether the output directory was made by this call or was there, empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prepared {
    Created,
    WasEmpty,
}

fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> ProvisionError {
    let path = path.to_path_buf();
    move |source| ProvisionError::Io {
        path,
        action,
        source,
    }
}

/// Makes sure `out` is a new or empty directory.
pub(crate) fn prepare_out_dir(out: &Path) -> Result<Prepared, ProvisionError> {
    match fs::metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(io(out, "create directory"))?;
            Ok(Prepared::Created)
        }
        Err(e) => Err(io(out, "inspect")(e)),
        Ok(md) if !md.is_dir() => Err(ProvisionError::NotADirectory {
            path: out.to_path_buf(),
        }),
        Ok(_) => {
            let mut entries = fs::read_dir(out).map_err(io(out, "list"))?;
            if entries.next().is_some() {
                Err(ProvisionError::NotEmpty {
                    path: out.to_path_buf(),
                })
            } else {
                Ok(Prepared::WasEmpty)
            }
        }
    }
}

/// Best effort after a failure: remove what this call wrote (the directory
/// was new or empty, so everything in it is ours).
pub(crate) fn clean_up(out: &Path, prepared: Prepared) {
    match prepared {
        Prepared::Created => {
            let _ = fs::remove_dir_all(out);
        }
        Prepared::WasEmpty => {
            if let Ok(entries) = fs::read_dir(out) {
                for e in entries.flatten() {
                    let p = e.path();
                    let _ = if p.is_dir() {
                        fs::remove_dir_all(&p)
                    } else {
                        fs::remove_file(&p)
                    };
                }
            }
        }
    }
}

/// mosquitto.conf is line-based and has no quoting: a path goes in as is.
pub(crate) fn check_config_path(dir: &Path) -> Result<(), ProvisionError> {
    let unusable = |why| ProvisionError::UnusablePath {
        path: dir.to_path_buf(),
        why,
    };
    let Some(text) = dir.to_str() else {
        return Err(unusable("it is not UTF-8"));
    };
    if text.chars().any(|c| c.is_control()) {
        return Err(unusable(
            "it contains a control character (a line break would end the setting)",
        ));
    }
    if text.ends_with(char::is_whitespace) {
        return Err(unusable(
            "it ends with white space, which mosquitto would drop",
        ));
    }
    Ok(())
}

/// Whether this process runs as root: `/proc/self` belongs to the effective uid.
pub(crate) fn running_as_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The primary group of `user` in `/etc/passwd` (what mosquitto's
/// `setgid(pw_gid)` switches to).
pub(crate) fn primary_gid(user: &str) -> Option<u32> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[0] == user)
            .then(|| fields[3].parse().ok())
            .flatten()
    })
}

/// Ancestors of `dir` that a broker running with group `gid` (and as some
/// other user) cannot enter, each as a sentence.
pub(crate) fn traversal_warnings(dir: &Path, gid: Option<u32>) -> Vec<String> {
    let Some(gid) = gid else {
        return Vec::new();
    };
    dir.ancestors()
        .skip(1)
        .filter_map(|a| {
            let md = fs::metadata(a).ok()?;
            let mode = md.mode();
            let enters = mode & 0o001 != 0 || (md.gid() == gid && mode & 0o010 != 0);
            (!enters).then(|| {
                format!(
                    "{}: the broker's group (gid {gid}) cannot enter this directory (mode {:04o}), so mosquitto, once it has dropped to user `mosquitto`, cannot read {}; run `chmod o+x {}` or provision somewhere it can reach",
                    a.display(),
                    mode & 0o7777,
                    dir.join("passwd").display(),
                    a.display()
                )
            })
        })
        .collect()
}

/// Creates files and directories for the client side (the user who
/// provisions) and the broker side (maybe another user, in group `gid`).
pub(crate) struct Writer {
    gid: Option<u32>,
}

impl Writer {
    pub(crate) fn new(gid: Option<u32>) -> Writer {
        Writer { gid }
    }

    fn chmod(path: &Path, mode: u32) -> Result<(), ProvisionError> {
        fs::set_permissions(path, Permissions::from_mode(mode))
            .map_err(io(path, "set the permissions of"))
    }

    fn create(path: &Path, bytes: &[u8]) -> Result<fs::File, ProvisionError> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io(path, "create"))?;
        f.write_all(bytes).map_err(io(path, "write"))?;
        f.sync_all().map_err(io(path, "write"))?;
        Ok(f)
    }

    /// A directory only the provisioning user enters (0700).
    pub(crate) fn private_dir(&self, path: &Path) -> Result<(), ProvisionError> {
        fs::create_dir(path).map_err(io(path, "create directory"))?;
        Self::chmod(path, 0o700)
    }

    /// A directory the broker enters (0750 in its group, or 0700), and
    /// writes into when `writable` (0770). Created if missing.
    pub(crate) fn broker_dir(&self, path: &Path, writable: bool) -> Result<(), ProvisionError> {
        if !path.exists() {
            fs::create_dir(path).map_err(io(path, "create directory"))?;
        }
        Self::chmod(path, 0o700)?;
        if let Some(gid) = self.gid {
            std::os::unix::fs::chown(path, None, Some(gid))
                .map_err(io(path, "give the broker's group"))?;
            Self::chmod(path, if writable { 0o770 } else { 0o750 })?;
        }
        Ok(())
    }

    /// A secret for the client side only (0600).
    pub(crate) fn private_file(&self, path: &Path, bytes: &[u8]) -> Result<(), ProvisionError> {
        Self::create(path, bytes)?;
        Self::chmod(path, 0o600)
    }

    /// A file the broker reads: 0640 in its group, or 0600.
    pub(crate) fn broker_file(&self, path: &Path, bytes: &[u8]) -> Result<(), ProvisionError> {
        let f = Self::create(path, bytes)?;
        if let Some(gid) = self.gid {
            std::os::unix::fs::fchown(&f, None, Some(gid))
                .map_err(io(path, "give the broker's group"))?;
            Self::chmod(path, 0o640)?;
        }
        Ok(())
    }

    /// A file without secrets (0644).
    pub(crate) fn public_file(&self, path: &Path, bytes: &[u8]) -> Result<(), ProvisionError> {
        Self::create(path, bytes)?;
        Self::chmod(path, 0o644)
    }
}
