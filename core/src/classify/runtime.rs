//! The ONNX Runtime shared library and the one process-wide environment built on it.
//!
//! The library is loaded at run time (`ort`'s `load-dynamic`), so a missing or wrong library is a typed
//! [`ClassifyError::ModelUnavailable`] and the rest of Haven keeps working. ONNX Runtime allows one environment
//! per process, ever: the first successful [`Runtime::load`] decides which library the process uses, and later
//! calls share it whatever path they name.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{ClassifyError, Unavailable};

/// The environment variable that names the ONNX Runtime library when the configuration does not.
pub const ORT_DYLIB_ENV: &str = "HAVEN_ORT_DYLIB";

/// Where `scripts/fetch-models.sh` installs the library, relative to the project directory.
pub const DEFAULT_ORT_DYLIB: &str = ".haven/runtime/libonnxruntime.so.1.32.0";

/// The ONNX Runtime version the bindings are built for (`ort`'s `api-31` feature accepts 1.31 and 1.32).
pub const ORT_VERSION: &str = "1.32.0";

static ENVIRONMENT: Mutex<Option<ort::environment::Environment>> = Mutex::new(None);

/// A loaded ONNX Runtime: cheap to clone, shared by every session of the process.
#[derive(Debug, Clone)]
pub struct Runtime {
    environment: ort::environment::Environment,
}

impl Runtime {
    /// Which library file to load: `configured` if given, else `$HAVEN_ORT_DYLIB`, else [`DEFAULT_ORT_DYLIB`].
    pub fn locate(configured: Option<&Path>) -> PathBuf {
        match configured {
            Some(path) => path.to_path_buf(),
            None => std::env::var_os(ORT_DYLIB_ENV)
                .filter(|v| !v.is_empty())
                .map_or_else(|| PathBuf::from(DEFAULT_ORT_DYLIB), PathBuf::from),
        }
    }

    /// Loads the library at `path` and builds the process's environment, or returns the environment already
    /// built (then `path` is not looked at). A failed attempt leaves nothing behind, so a later call with a
    /// good path succeeds.
    pub fn load(path: &Path) -> Result<Runtime, ClassifyError> {
        let mut slot = ENVIRONMENT
            .lock()
            .map_err(|_| ClassifyError::ModelUnavailable(Unavailable::RuntimeInvalid))?;
        if let Some(environment) = slot.as_ref() {
            return Ok(Runtime {
                environment: environment.clone(),
            });
        }
        if !path.is_file() {
            return Err(ClassifyError::ModelUnavailable(Unavailable::RuntimeMissing));
        }
        let environment = ort::init_from(path)
            .map_err(|_| ClassifyError::ModelUnavailable(Unavailable::RuntimeInvalid))?
            .with_name("haven")
            .build()
            .map_err(|_| ClassifyError::ModelUnavailable(Unavailable::RuntimeInvalid))?;
        *slot = Some(environment.clone());
        Ok(Runtime { environment })
    }

    /// [`Runtime::load`] of [`Runtime::locate`].
    pub fn load_default(configured: Option<&Path>) -> Result<Runtime, ClassifyError> {
        Runtime::load(&Runtime::locate(configured))
    }

    pub(crate) fn environment(&self) -> &ort::environment::Environment {
        &self.environment
    }
}
