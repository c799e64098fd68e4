//! Matching images and hashes against every loaded hash list.

use std::sync::Arc;

use super::compiled::CompiledHashList;
use super::image::{DecodeLimits, ImageError, decode};
use super::index::DEFAULT_RADIUS;
use super::list::{HashKind, HashValue};
use super::pdq::{self, MIN_QUALITY, PdqResult, Resize};
use super::{FileDigests, PdqHash};
use crate::policy::Category;
use crate::verdict::{Engine, Evidence, Finding};

/// How PDQ hashes are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashOptions {
    /// Largest Hamming distance that counts as a match (default 31, Meta's recommendation).
    pub radius: u32,
    /// Hashes of images with a lower PDQ quality never match (default 50): flat or tiny images hash unreliably.
    pub min_quality: u8,
    /// Also match the image's seven rotations and mirror images (eight PDQ queries instead of one).
    pub dihedral: bool,
    /// Downsample large images to 512 px before hashing, like Meta's reference command-line tool (faster;
    /// default `false`: full resolution, like the reference Python binding).
    pub fast: bool,
}

impl Default for HashOptions {
    fn default() -> Self {
        HashOptions {
            radius: DEFAULT_RADIUS,
            min_quality: MIN_QUALITY,
            dihedral: false,
            fast: false,
        }
    }
}

/// One list entry an image or hash matched.
#[derive(Debug, Clone)]
pub struct HashMatch {
    /// The list.
    pub list: Arc<CompiledHashList>,
    /// The kind of hash that matched.
    pub kind: HashKind,
    /// The entry's id in the list (its position in the source list).
    pub entry: u32,
    /// Bits apart (0 for exact hashes).
    pub distance: u32,
}

impl HashMatch {
    /// The finding for the verdict: known abuse, with the list, entry and distance as evidence.
    pub fn to_finding(&self) -> Finding {
        let meta = &self.list.meta().list;
        Finding {
            category: Category::KnownAbuse,
            confidence: 1.0,
            evidence: Evidence::new(Engine::Hash)
                .with_source(meta.id.clone(), meta.version.clone())
                .with_rule(format!("{} entry {}", self.kind, self.entry))
                .with_score(self.distance as f32),
        }
    }
}

/// What was computed from an image: its exact digests and, when it decoded, its PDQ hash and quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHashes {
    /// MD5, SHA-1, BLAKE3 of the bytes.
    pub digests: FileDigests,
    /// PDQ of the decoded image (`None` when it could not be hashed, e.g. too small).
    pub pdq: Option<PdqResult>,
}

/// Every loaded hash list. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct HashEngine {
    lists: Vec<Arc<CompiledHashList>>,
    options: HashOptions,
    limits: DecodeLimits,
}

impl HashEngine {
    /// An engine with no lists (nothing matches).
    pub fn new() -> HashEngine {
        HashEngine::default()
    }

    /// This engine with one more list.
    pub fn with_list(mut self, list: impl Into<Arc<CompiledHashList>>) -> HashEngine {
        self.lists.push(list.into());
        self
    }

    /// This engine with other matching options.
    pub fn with_options(mut self, options: HashOptions) -> HashEngine {
        self.options = options;
        self
    }

    /// This engine with other decoding limits.
    pub fn with_limits(mut self, limits: DecodeLimits) -> HashEngine {
        self.limits = limits;
        self
    }

    /// The lists.
    pub fn lists(&self) -> &[Arc<CompiledHashList>] {
        &self.lists
    }

    /// The matching options.
    pub fn options(&self) -> HashOptions {
        self.options
    }

    /// Entries a hash matches: exact kinds exactly, PDQ within the radius (nearest first per list).
    pub fn match_value(&self, value: &HashValue) -> Vec<HashMatch> {
        match value {
            HashValue::Pdq(hash) => self.match_pdq(std::slice::from_ref(hash)),
            exact => self
                .lists
                .iter()
                .filter_map(|list| {
                    list.find_exact(exact).map(|entry| HashMatch {
                        list: list.clone(),
                        kind: exact.kind(),
                        entry,
                        distance: 0,
                    })
                })
                .collect(),
        }
    }

    /// Entries within the radius of any of `hashes` (e.g. the eight dihedral variants), each entry once at its
    /// smallest distance.
    pub fn match_pdq(&self, hashes: &[PdqHash]) -> Vec<HashMatch> {
        let mut matches: Vec<HashMatch> = Vec::new();
        for list in &self.lists {
            let mut best: Vec<(u32, u32)> = Vec::new();
            for hash in hashes {
                for (entry, distance) in list.find_pdq(hash, self.options.radius) {
                    match best.iter_mut().find(|(e, _)| *e == entry) {
                        Some(found) => found.1 = found.1.min(distance),
                        None => best.push((entry, distance)),
                    }
                }
            }
            best.sort_by_key(|&(entry, distance)| (distance, entry));
            matches.extend(best.into_iter().map(|(entry, distance)| HashMatch {
                list: list.clone(),
                kind: HashKind::Pdq,
                entry,
                distance,
            }));
        }
        matches
    }

    /// Hashes an image (exact digests of the bytes; PDQ of the decoded image) under the decoding limits.
    pub fn hash_image(&self, bytes: &[u8]) -> Result<ImageHashes, ImageError> {
        let digests = FileDigests::of(bytes);
        let image = decode(bytes, &self.limits)?;
        let resize = if self.options.fast {
            Resize::Max512
        } else {
            Resize::Full
        };
        Ok(ImageHashes {
            digests,
            pdq: pdq::hash_image(&image, resize).ok(),
        })
    }

    /// Matches an image's bytes: its exact digests always (even when it does not decode), its PDQ hash (and, with
    /// [`HashOptions::dihedral`], its rotations and mirror images) when its quality is high enough.
    pub fn match_image(&self, bytes: &[u8]) -> Result<Vec<HashMatch>, ImageError> {
        let digests = FileDigests::of(bytes);
        let mut matches: Vec<HashMatch> = digests
            .values()
            .iter()
            .flat_map(|value| self.match_value(value))
            .collect();
        if self.lists.iter().all(|l| l.count(HashKind::Pdq) == 0) {
            return Ok(matches);
        }
        let image = match decode(bytes, &self.limits) {
            Ok(image) => image,
            // A known file that does not decode is still known.
            Err(_) if !matches.is_empty() => return Ok(matches),
            Err(e) => return Err(e),
        };
        let resize = if self.options.fast {
            Resize::Max512
        } else {
            Resize::Full
        };
        let hashes: Vec<PdqHash> = if self.options.dihedral {
            pdq::hash_dihedral(&image, resize)
                .map(|all| {
                    all.iter()
                        .filter(|r| r.quality >= self.options.min_quality)
                        .map(|r| r.hash)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            pdq::hash_image(&image, resize)
                .ok()
                .filter(|r| r.quality >= self.options.min_quality)
                .map(|r| vec![r.hash])
                .unwrap_or_default()
        };
        matches.extend(self.match_pdq(&hashes));
        Ok(matches)
    }
}
