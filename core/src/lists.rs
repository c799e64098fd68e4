//! Compiled lists in a directory: URL category lists (`*.hvl`) and hash lists (`*.hvh`), as `haven lists compile`
//! writes them. The daemon and the bindings load their lists directory through these functions.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let urls = haven_core::lists::url_engine(Some(dir.path()))?;
//! assert_eq!(urls.lists().len(), haven_core::url::UrlEngine::builtin().lists().len());
//! assert!(haven_core::lists::hash_engine(Some(dir.path()))?.lists().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use crate::hash::{CompiledHashList, CompiledHashListError, HashEngine};
use crate::url::{CompiledList, CompiledListError, UrlEngine};

/// The file extension of compiled URL lists.
pub const URL_LIST_EXTENSION: &str = "hvl";

/// The file extension of compiled hash lists.
pub const HASH_LIST_EXTENSION: &str = "hvh";

/// Why a lists directory could not be loaded. Names the file, never its contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListsDirError {
    /// The directory could not be read.
    #[error("cannot read the lists directory ({0})")]
    Io(std::io::ErrorKind),
    /// A compiled URL list is invalid.
    #[error("list {file}: {error}")]
    List {
        /// The file name.
        file: String,
        /// What is wrong with it.
        error: CompiledListError,
    },
    /// A compiled hash list is invalid.
    #[error("hash list {file}: {error}")]
    HashList {
        /// The file name.
        file: String,
        /// What is wrong with it.
        error: CompiledHashListError,
    },
}

/// The built-in seed lists plus every compiled URL list (`*.hvl`) in `dir`, in file-name order. A missing
/// directory adds nothing.
pub fn url_engine(dir: Option<&Path>) -> Result<UrlEngine, ListsDirError> {
    let mut engine = UrlEngine::builtin();
    let Some(dir) = dir else {
        return Ok(engine);
    };
    for path in files_in(dir, &[URL_LIST_EXTENSION]).map_err(|e| ListsDirError::Io(e.kind()))? {
        let list = CompiledList::open(&path).map_err(|error| ListsDirError::List {
            file: file_name(&path),
            error,
        })?;
        engine = engine.with_list(list);
    }
    Ok(engine)
}

/// Every compiled hash list (`*.hvh`) in `dir`, in file-name order; none without a directory.
pub fn hash_engine(dir: Option<&Path>) -> Result<HashEngine, ListsDirError> {
    let mut engine = HashEngine::new();
    let Some(dir) = dir else {
        return Ok(engine);
    };
    for path in files_in(dir, &[HASH_LIST_EXTENSION]).map_err(|e| ListsDirError::Io(e.kind()))? {
        let list = CompiledHashList::open(&path).map_err(|error| ListsDirError::HashList {
            file: file_name(&path),
            error,
        })?;
        engine = engine.with_list(list);
    }
    Ok(engine)
}

/// The regular files in `dir` with one of `extensions`, sorted by path; a missing directory has none.
pub fn files_in(dir: &Path, extensions: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// A path's file name, for error messages.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
