//! A pool of ONNX Runtime sessions for one model, shared by every thread that runs it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use sha2::{Digest, Sha256};

use super::runtime::Runtime;
use super::{ClassifyError, Unavailable};

/// `sessions` sessions of the model in `bytes`, each with `threads` intra-op threads.
#[derive(Debug)]
pub(crate) struct SessionPool {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl SessionPool {
    /// Builds the pool; ONNX Runtime refusing the model is [`Unavailable::ModelInvalid`].
    pub(crate) fn new(
        runtime: &Runtime,
        bytes: &[u8],
        threads: usize,
        sessions: usize,
    ) -> Result<SessionPool, ClassifyError> {
        let sessions = (0..sessions.max(1))
            .map(|_| {
                session(runtime, bytes, threads.max(1))
                    .map(Mutex::new)
                    .ok_or(ClassifyError::ModelUnavailable(Unavailable::ModelInvalid))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SessionPool {
            sessions,
            next: AtomicUsize::new(0),
        })
    }

    /// A free session, or (all busy) the next one in turn, waited for.
    pub(crate) fn get(&self) -> Result<MutexGuard<'_, Session>, ClassifyError> {
        let poisoned = |_| ClassifyError::Inference("a session panicked".into());
        for session in &self.sessions {
            if let Ok(guard) = session.try_lock() {
                return Ok(guard);
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.sessions.len().max(1);
        self.sessions
            .get(turn)
            .ok_or_else(|| ClassifyError::Inference("no session".into()))?
            .lock()
            .map_err(poisoned)
    }
}

/// One session for the model in `bytes` (ONNX Runtime's errors say nothing a caller could act on beyond "invalid").
fn session(runtime: &Runtime, bytes: &[u8], threads: usize) -> Option<Session> {
    Session::builder(runtime.environment())
        .ok()?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .ok()?
        .with_intra_threads(threads)
        .ok()?
        .with_inter_threads(1)
        .ok()?
        .commit_from_memory(bytes)
        .ok()
}

/// The bytes of a model file whose SHA-256 must be `sha256` (checked on the bytes that are loaded, so nothing can
/// change the file in between).
pub(crate) fn read_verified(
    file: &std::path::Path,
    sha256: &str,
) -> Result<Vec<u8>, ClassifyError> {
    let bytes = std::fs::read(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ClassifyError::ModelUnavailable(Unavailable::ModelMissing),
        _ => ClassifyError::ModelUnavailable(Unavailable::ModelUnreadable),
    })?;
    verify(&bytes, sha256)?;
    Ok(bytes)
}

/// [`ClassifyError::ModelCorrupt`] unless `bytes` has the SHA-256 `sha256`.
pub(crate) fn verify(bytes: &[u8], sha256: &str) -> Result<(), ClassifyError> {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if hex == sha256.to_ascii_lowercase() {
        Ok(())
    } else {
        Err(ClassifyError::ModelCorrupt)
    }
}
