//! The parent credential: a passphrase stored only as an Argon2id hash (PHC string) in `DATA_DIR/parent.passphrase`,
//! readable by the daemon's user alone, and a back-off that locks administration for a growing time after
//! repeated wrong passphrases.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::config::AuthConfig;

/// Shortest accepted passphrase, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
/// Longest accepted passphrase, in bytes.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;

/// Why administration was refused or the passphrase could not be set. No variant carries a passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No passphrase has been set yet.
    #[error("no parent passphrase is set; run `haven parent set-passphrase`")]
    NotSet,
    /// The request carried no credential.
    #[error("this needs the parent passphrase")]
    Missing,
    /// The passphrase is wrong.
    #[error("wrong parent passphrase")]
    Wrong,
    /// Too many wrong passphrases: try again after this long.
    #[error("too many wrong passphrases; try again in {} s", retry_after.as_secs().max(1))]
    Locked {
        /// Time left in the lock-out.
        retry_after: Duration,
    },
    /// The new passphrase is too short or too long.
    #[error("the passphrase must be {MIN_PASSPHRASE_CHARS} to {MAX_PASSPHRASE_BYTES} bytes long")]
    BadLength,
    /// The stored credential file is not a valid Argon2 hash.
    #[error("the stored parent credential is corrupt; set it again")]
    Corrupt,
    /// The credential file could not be read or written.
    #[error("cannot access the parent credential ({0})")]
    Io(std::io::ErrorKind),
}

#[derive(Debug, Default)]
struct Attempts {
    failures: u32,
    locked_until: Option<Instant>,
}

/// Checks the parent passphrase with back-off. One per daemon; safe to share across threads.
#[derive(Debug)]
pub struct ParentAuth {
    path: PathBuf,
    config: AuthConfig,
    attempts: Mutex<Attempts>,
    /// Verifications run one at a time, so parallel guesses cannot slip past the lock-out.
    serial: Mutex<()>,
}

impl ParentAuth {
    /// A checker for the credential file at `path` (read at every check, so a new passphrase takes effect at once).
    pub fn new(path: impl Into<PathBuf>, config: AuthConfig) -> ParentAuth {
        ParentAuth {
            path: path.into(),
            config,
            attempts: Mutex::new(Attempts::default()),
            serial: Mutex::new(()),
        }
    }

    /// Whether a passphrase has been set.
    pub fn is_set(&self) -> bool {
        self.path.exists()
    }

    /// Checks a passphrase. Blocking (Argon2 takes tens of milliseconds): call it from a blocking thread.
    pub fn verify(&self, passphrase: &str) -> Result<(), AuthError> {
        let _serial = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        self.check_lock()?;
        let stored = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(AuthError::NotSet),
            Err(e) => return Err(AuthError::Io(e.kind())),
        };
        let hash = PasswordHash::new(stored.trim()).map_err(|_| AuthError::Corrupt)?;
        let ok = passphrase.len() <= MAX_PASSPHRASE_BYTES
            && Argon2::default()
                .verify_password(passphrase.as_bytes(), &hash)
                .is_ok();
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            *attempts = Attempts::default();
            return Ok(());
        }
        attempts.failures = attempts.failures.saturating_add(1);
        if attempts.failures > self.config.free_attempts {
            let doublings = (attempts.failures - self.config.free_attempts - 1).min(30);
            let lockout = self
                .config
                .base_lockout_ms
                .saturating_mul(1u64 << doublings)
                .min(self.config.max_lockout_ms);
            attempts.locked_until = Some(Instant::now() + Duration::from_millis(lockout));
        }
        Err(AuthError::Wrong)
    }

    /// `Err(Locked)` while a lock-out runs.
    pub fn check_lock(&self) -> Result<(), AuthError> {
        let attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        match attempts.locked_until {
            Some(until) => {
                let now = Instant::now();
                if until > now {
                    Err(AuthError::Locked {
                        retry_after: until - now,
                    })
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }
}

/// Hashes a new passphrase with Argon2id and a random salt and writes it to `path` (created with mode 0600,
/// replaced atomically).
pub fn set_passphrase(path: &Path, passphrase: &str) -> Result<(), AuthError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS || passphrase.len() > MAX_PASSPHRASE_BYTES
    {
        return Err(AuthError::BadLength);
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(passphrase.as_bytes(), &salt)
        .map_err(|_| AuthError::Corrupt)?
        .to_string();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| AuthError::Io(e.kind()))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    write_private(&tmp, format!("{hash}\n").as_bytes()).map_err(|e| AuthError::Io(e.kind()))?;
    std::fs::rename(&tmp, path).map_err(|e| AuthError::Io(e.kind()))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn quick() -> AuthConfig {
        AuthConfig {
            free_attempts: 2,
            base_lockout_ms: 150,
            max_lockout_ms: 400,
        }
    }

    #[test]
    fn set_then_verify_and_file_is_private_argon2id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/parent.passphrase");
        let auth = ParentAuth::new(&path, quick());
        assert!(!auth.is_set());
        assert_eq!(auth.verify("anything at all"), Err(AuthError::NotSet));
        set_passphrase(&path, "correct horse battery").unwrap();
        let stored = std::fs::read_to_string(&path).unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("horse"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(auth.verify("correct horse battery"), Ok(()));
        assert_eq!(auth.verify("correct horse batter"), Err(AuthError::Wrong));
    }

    #[test]
    fn short_or_huge_passphrases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        assert_eq!(set_passphrase(&path, "short"), Err(AuthError::BadLength));
        let huge = "x".repeat(MAX_PASSPHRASE_BYTES + 1);
        assert_eq!(set_passphrase(&path, &huge), Err(AuthError::BadLength));
        assert!(!path.exists());
    }

    #[test]
    fn back_off_locks_even_the_right_passphrase_then_expires() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        set_passphrase(&path, "the right one").unwrap();
        let auth = ParentAuth::new(&path, quick());
        assert_eq!(auth.verify("wrong 1"), Err(AuthError::Wrong));
        assert_eq!(auth.verify("wrong 2"), Err(AuthError::Wrong));
        assert_eq!(auth.check_lock(), Ok(()));
        assert_eq!(auth.verify("wrong 3"), Err(AuthError::Wrong));
        assert!(matches!(
            auth.verify("the right one"),
            Err(AuthError::Locked { .. })
        ));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(auth.verify("the right one"), Ok(()));
        assert_eq!(auth.check_lock(), Ok(()));
    }

    #[test]
    fn lockouts_double_up_to_the_maximum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        set_passphrase(&path, "the right one").unwrap();
        let auth = ParentAuth::new(
            &path,
            AuthConfig {
                free_attempts: 0,
                base_lockout_ms: 1000,
                max_lockout_ms: 3000,
            },
        );
        let mut locks = Vec::new();
        for _ in 0..4 {
            // Clear the lock by hand to observe each lock-out's length.
            auth.attempts.lock().unwrap().locked_until = None;
            assert_eq!(auth.verify("wrong"), Err(AuthError::Wrong));
            match auth.check_lock() {
                Err(AuthError::Locked { retry_after }) => locks.push(retry_after.as_millis()),
                other => panic!("expected a lock, got {other:?}"),
            }
        }
        assert!(locks[0] <= 1000 && locks[0] > 900, "{locks:?}");
        assert!(locks[1] <= 2000 && locks[1] > 1900, "{locks:?}");
        assert!(locks[2] <= 3000 && locks[2] > 2900, "{locks:?}");
        assert!(locks[3] <= 3000 && locks[3] > 2900, "{locks:?}");
    }

    #[test]
    fn corrupt_credential_file_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        std::fs::write(&path, "not a hash").unwrap();
        let auth = ParentAuth::new(&path, quick());
        assert_eq!(auth.verify("whatever it is"), Err(AuthError::Corrupt));
    }
}
