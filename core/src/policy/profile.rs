//! A child's profile: tier, language, country, overrides and the family's own domain lists.
//!
//! Profiles are read from TOML or JSON that a parent (or an app on their behalf) wrote, so parsing is strict:
//! unknown fields are rejected, and every error names the field at fault. An error never repeats a value from the
//! profile, because those values (a child's name, the sites they visit) are the family's private data.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{AgeTier, Category, Rule, default_rule};
use crate::i18n::Language;
use crate::url::safesearch::SafeSearchMode;

/// Longest accepted profile name, in characters.
const MAX_NAME_CHARS: usize = 64;
/// Most entries in one domain list of a profile.
const MAX_DOMAINS: usize = 100_000;
/// Largest profile file [`Profile::load`] reads.
const MAX_PROFILE_BYTES: u64 = 8 * 1024 * 1024;
/// Longest field path kept in an error, so that a hostile key cannot smuggle a long value into logs.
const MAX_FIELD_PATH: usize = 128;

/// A change to one category's default rule. Fields left out keep the default's value.
///
/// # Examples
///
/// ```
/// use haven_core::policy::{Action, AgeTier, Category, Profile, RuleOverride};
///
/// let mut profile = Profile::new("Sam", AgeTier::Age13To15)?;
/// profile.set_override(Category::SocialMedia, RuleOverride::action(Action::Block))?;
/// assert_eq!(profile.rule_for(Category::SocialMedia).action, Action::Block);
/// // Known abuse material can never be relaxed.
/// assert!(profile.set_override(Category::KnownAbuse, RuleOverride::action(Action::Allow)).is_err());
/// # Ok::<(), haven_core::policy::ProfileError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    /// The action to take instead of the default's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<crate::policy::Action>,
    /// Whether to notify the parent instead of the default's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_parent: Option<bool>,
    /// Whether to offer help instead of the default's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_help: Option<bool>,
}

impl RuleOverride {
    /// An override of the action only.
    pub fn action(action: crate::policy::Action) -> RuleOverride {
        RuleOverride {
            action: Some(action),
            ..RuleOverride::default()
        }
    }

    /// `rule` with this override applied.
    pub fn apply(&self, rule: Rule) -> Rule {
        Rule {
            action: self.action.unwrap_or(rule.action),
            notify_parent: self.notify_parent.unwrap_or(rule.notify_parent),
            offer_help: self.offer_help.unwrap_or(rule.offer_help),
        }
    }
}

/// An ISO 3166-1 alpha-2 country code (`"GB"`, `"FR"`), used to choose help lines. Stored in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// The two-letter code in upper case.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters (checked in `from_str`), so this never fails.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for Country {
    type Err = FieldProblem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(FieldProblem::Invalid(
                "expected a two-letter ISO 3166-1 country code",
            )),
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom("invalid country"))
    }
}

/// A set of domains, each matching itself and all its subdomains (`example.com` matches `www.example.com`).
///
/// Entries are normalised when added: lower case, no trailing dot, internationalised names as punycode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DomainList {
    /// Sorted and free of duplicates.
    domains: Vec<String>,
}

impl DomainList {
    /// Adds a domain after normalising it. Returns `false` if it was already present.
    pub fn insert(&mut self, domain: &str) -> Result<bool, FieldProblem> {
        let domain = normalize_domain(domain)?;
        match self.domains.binary_search(&domain) {
            Ok(_) => Ok(false),
            Err(at) => {
                if self.domains.len() >= MAX_DOMAINS {
                    return Err(FieldProblem::TooMany { max: MAX_DOMAINS });
                }
                self.domains.insert(at, domain);
                Ok(true)
            }
        }
    }

    /// Removes a domain (normalised first). Returns whether it was present.
    pub fn remove(&mut self, domain: &str) -> bool {
        let Ok(domain) = normalize_domain(domain) else {
            return false;
        };
        match self.domains.binary_search(&domain) {
            Ok(at) => {
                self.domains.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether `domain` (normalised) is an entry itself; subdomains do not count.
    fn contains(&self, domain: &str) -> bool {
        self.domains
            .binary_search_by(|d| d.as_str().cmp(domain))
            .is_ok()
    }

    /// The most specific entry that `host` equals or is a subdomain of.
    ///
    /// `host` must already be normalised (lower case, punycode, no trailing dot), as URL parsing leaves it.
    pub fn longest_match(&self, host: &str) -> Option<&str> {
        let mut rest = host;
        loop {
            if let Ok(at) = self.domains.binary_search_by(|d| d.as_str().cmp(rest)) {
                return self.domains.get(at).map(String::as_str);
            }
            let (_, parent) = rest.split_once('.')?;
            rest = parent;
        }
    }

    /// The entries, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.domains.iter().map(String::as_str)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.domains.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }
}

impl Serialize for DomainList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// Normalises a domain the way URL parsing normalises hosts, and rejects anything that is not a bare host name.
fn normalize_domain(raw: &str) -> Result<String, FieldProblem> {
    const NOT_A_DOMAIN: FieldProblem =
        FieldProblem::Invalid("expected a domain name such as example.com");
    let trimmed = raw.trim().trim_end_matches('.');
    if trimmed.is_empty() || trimmed.len() > 253 {
        return Err(NOT_A_DOMAIN);
    }
    if trimmed.contains(['/', ':', '@', '?', '#', '*', ' ', '\\']) {
        return Err(NOT_A_DOMAIN);
    }
    match url::Host::parse(trimmed) {
        Ok(url::Host::Domain(domain)) if domain.split('.').all(|label| !label.is_empty()) => {
            Ok(domain)
        }
        _ => Err(NOT_A_DOMAIN),
    }
}

/// How a host relates to a profile's own lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainDecision<'a> {
    /// The parent allowed this domain (the matching entry is given).
    Allowed(&'a str),
    /// The parent denied this domain (the matching entry is given).
    Denied(&'a str),
    /// The profile is allowlist-only and the host is not on the allowlist.
    NotInAllowlist,
    /// Neither list mentions the host; the engines decide.
    Unlisted,
}

/// One child's settings.
///
/// Build one in code with [`Profile::new`], or read one with [`Profile::from_toml`] / [`Profile::from_json`] /
/// [`Profile::load`]. The TOML form:
///
/// ```toml
/// name = "Sam"
/// tier = "9-12"           # under-9, 9-12, 13-15, 16-17, adult
/// language = "fr"         # ar, en, es, fr, ru, zh (default en)
/// country = "FR"          # optional, chooses help lines
/// allowlist_only = false  # "walled garden": only allow_domains open
/// safe_search = "strict"  # off, moderate, strict (default: strict to 15, moderate 16-17, off for adults)
/// allow_domains = ["wikipedia.org"]
/// deny_domains = ["example.net"]
///
/// [overrides.social_media]
/// action = "warn"
/// notify_parent = true
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    name: String,
    tier: AgeTier,
    language: Language,
    country: Option<Country>,
    overrides: BTreeMap<Category, RuleOverride>,
    allow_domains: DomainList,
    deny_domains: DomainList,
    allowlist_only: bool,
    safe_search: Option<SafeSearchMode>,
}

impl Profile {
    /// A profile with the default policy for `tier`, in English, with no country and no lists.
    ///
    /// Fails if the name is empty, longer than 64 characters, or contains control characters.
    pub fn new(name: impl Into<String>, tier: AgeTier) -> Result<Profile, ProfileError> {
        let name = name.into();
        check_name(&name).map_err(|p| ProfileError::field("name", p))?;
        Ok(Profile {
            name,
            tier,
            language: Language::default(),
            country: None,
            overrides: BTreeMap::new(),
            allow_domains: DomainList::default(),
            deny_domains: DomainList::default(),
            allowlist_only: false,
            safe_search: None,
        })
    }

    /// A profile for a child of `years` years (see [`AgeTier::from_age`]).
    pub fn for_age(name: impl Into<String>, years: u32) -> Result<Profile, ProfileError> {
        Profile::new(name, AgeTier::from_age(years))
    }

    /// The profile's display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The age tier.
    pub fn tier(&self) -> AgeTier {
        self.tier
    }

    /// Changes the age tier (overrides are kept).
    pub fn set_tier(&mut self, tier: AgeTier) {
        self.tier = tier;
    }

    /// The language messages are written in.
    pub fn language(&self) -> Language {
        self.language
    }

    /// Changes the language.
    pub fn set_language(&mut self, language: Language) {
        self.language = language;
    }

    /// The country used to choose help lines, if set.
    pub fn country(&self) -> Option<Country> {
        self.country
    }

    /// Sets or clears the country.
    pub fn set_country(&mut self, country: Option<Country>) {
        self.country = country;
    }

    /// The per-category overrides.
    pub fn overrides(&self) -> &BTreeMap<Category, RuleOverride> {
        &self.overrides
    }

    /// Overrides one category's rule. Fails for [`Category::KnownAbuse`], which can never be changed.
    pub fn set_override(
        &mut self,
        category: Category,
        rule: RuleOverride,
    ) -> Result<(), ProfileError> {
        if !category.is_overridable() {
            return Err(ProfileError::field(
                format!("overrides.{}", category.id()),
                FieldProblem::NotOverridable,
            ));
        }
        self.overrides.insert(category, rule);
        Ok(())
    }

    /// Removes an override, going back to the default rule. Returns whether there was one.
    pub fn clear_override(&mut self, category: Category) -> bool {
        self.overrides.remove(&category).is_some()
    }

    /// The rule in force for a category: the default for this tier with any override applied.
    pub fn rule_for(&self, category: Category) -> Rule {
        let default = default_rule(category, self.tier);
        match self.overrides.get(&category) {
            Some(change) if category.is_overridable() => change.apply(default),
            _ => default,
        }
    }

    /// Domains the parent always allows (except for known abuse material, which stays blocked).
    pub fn allow_domains(&self) -> &DomainList {
        &self.allow_domains
    }

    /// Domains the parent always blocks.
    pub fn deny_domains(&self) -> &DomainList {
        &self.deny_domains
    }

    /// Adds a domain to the allowlist (and takes it off the denylist).
    pub fn allow_domain(&mut self, domain: &str) -> Result<(), ProfileError> {
        self.allow_domains
            .insert(domain)
            .map_err(|p| ProfileError::field("allow_domains", p))?;
        self.deny_domains.remove(domain);
        Ok(())
    }

    /// Adds a domain to the denylist (and takes it off the allowlist).
    pub fn deny_domain(&mut self, domain: &str) -> Result<(), ProfileError> {
        self.deny_domains
            .insert(domain)
            .map_err(|p| ProfileError::field("deny_domains", p))?;
        self.allow_domains.remove(domain);
        Ok(())
    }

    /// Whether only allowlisted domains may be opened ("walled garden", suited to under-9s).
    pub fn allowlist_only(&self) -> bool {
        self.allowlist_only
    }

    /// Turns allowlist-only mode on or off.
    pub fn set_allowlist_only(&mut self, on: bool) {
        self.allowlist_only = on;
    }

    /// The SafeSearch mode: the parent's choice, or the tier's default ([`SafeSearchMode::default_for`]).
    pub fn safe_search(&self) -> SafeSearchMode {
        self.safe_search
            .unwrap_or_else(|| SafeSearchMode::default_for(self.tier))
    }

    /// Sets the SafeSearch mode; `None` follows the tier's default.
    pub fn set_safe_search(&mut self, mode: Option<SafeSearchMode>) {
        self.safe_search = mode;
    }

    /// How `host` (normalised, as URL parsing leaves it) relates to this profile's lists.
    ///
    /// The most specific entry wins, so a parent can allow `example.com` yet deny `chat.example.com`.
    pub fn domain_decision(&self, host: &str) -> DomainDecision<'_> {
        let allowed = self.allow_domains.longest_match(host);
        let denied = self.deny_domains.longest_match(host);
        match (allowed, denied) {
            (Some(a), Some(d)) if a.len() > d.len() => DomainDecision::Allowed(a),
            (_, Some(d)) => DomainDecision::Denied(d),
            (Some(a), None) => DomainDecision::Allowed(a),
            (None, None) if self.allowlist_only => DomainDecision::NotInAllowlist,
            (None, None) => DomainDecision::Unlisted,
        }
    }

    /// Parses a profile from TOML.
    pub fn from_toml(text: &str) -> Result<Profile, ProfileError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((0, 0), |span| line_column(text, span.start));
            ProfileError::Syntax {
                format: ProfileFormat::Toml,
                line,
                column,
            }
        })?;
        let raw: RawProfile = serde_path_to_error::deserialize(table).map_err(from_serde)?;
        raw.validate()
    }

    /// Parses a profile from JSON.
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ProfileError::Syntax {
                format: ProfileFormat::Json,
                line: e.line(),
                column: e.column(),
            })?;
        let raw: RawProfile = serde_path_to_error::deserialize(value).map_err(from_serde)?;
        raw.validate()
    }

    /// Writes the profile as TOML; [`Profile::from_toml`] reads it back unchanged.
    pub fn to_toml(&self) -> String {
        // A profile holds only strings, booleans, arrays and string-keyed tables, all of which TOML can
        // represent, so serialisation cannot fail; fall back to JSON-in-a-comment rather than panic.
        toml::to_string(&self.to_raw()).unwrap_or_else(|_| format!("# {}\n", self.to_json()))
    }

    /// Writes the profile as pretty-printed JSON; [`Profile::from_json`] reads it back unchanged.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_raw()).unwrap_or_default()
    }

    /// Reads a profile file; the format follows the extension (`.json`, otherwise TOML).
    pub fn load(path: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        let path = path.as_ref();
        let io = |e: std::io::Error| ProfileError::Io { kind: e.kind() };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_PROFILE_BYTES {
            return Err(ProfileError::TooLarge {
                max_bytes: MAX_PROFILE_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        match ProfileFormat::from_path(path) {
            ProfileFormat::Json => Profile::from_json(&text),
            ProfileFormat::Toml => Profile::from_toml(&text),
        }
    }

    /// Writes a profile file atomically (to a temporary file, then renamed); the format follows the extension.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        let path = path.as_ref();
        let text = match ProfileFormat::from_path(path) {
            ProfileFormat::Json => self.to_json(),
            ProfileFormat::Toml => self.to_toml(),
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let io = |e: std::io::Error| ProfileError::Io { kind: e.kind() };
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    fn to_raw(&self) -> RawProfile {
        RawProfile {
            name: self.name.clone(),
            tier: self.tier,
            language: self.language,
            country: self.country,
            allowlist_only: self.allowlist_only,
            safe_search: self.safe_search,
            allow_domains: self.allow_domains.iter().map(str::to_owned).collect(),
            deny_domains: self.deny_domains.iter().map(str::to_owned).collect(),
            overrides: self
                .overrides
                .iter()
                .map(|(c, o)| (c.id().to_owned(), *o))
                .collect(),
        }
    }
}

/// The serialised shape of a profile, before validation.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    tier: AgeTier,
    #[serde(default)]
    language: Language,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<Country>,
    #[serde(default)]
    allowlist_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    safe_search: Option<SafeSearchMode>,
    #[serde(default)]
    allow_domains: Vec<String>,
    #[serde(default)]
    deny_domains: Vec<String>,
    /// Keyed by category id; read as strings so that errors inside an entry can name it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    overrides: BTreeMap<String, RuleOverride>,
}

impl RawProfile {
    fn validate(self) -> Result<Profile, ProfileError> {
        let mut profile = Profile::new(self.name, self.tier)?;
        profile.language = self.language;
        profile.country = self.country;
        profile.allowlist_only = self.allowlist_only;
        profile.safe_search = self.safe_search;
        for (key, change) in self.overrides {
            let category: Category = key.parse().map_err(|_| {
                ProfileError::field(
                    "overrides",
                    FieldProblem::Invalid("has a key that is not a category"),
                )
            })?;
            profile.set_override(category, change)?;
        }
        for (field, raw, list) in [
            (
                "allow_domains",
                self.allow_domains,
                &mut profile.allow_domains,
            ),
            ("deny_domains", self.deny_domains, &mut profile.deny_domains),
        ] {
            for (i, domain) in raw.iter().enumerate() {
                list.insert(domain)
                    .map_err(|p| ProfileError::field(format!("{field}[{i}]"), p))?;
            }
        }
        // The same entry in both lists has no meaningful precedence: refuse it, naming the position only.
        let allowed = &profile.allow_domains;
        if let Some(at) = profile
            .deny_domains
            .iter()
            .position(|d| allowed.contains(d))
        {
            return Err(ProfileError::field(
                format!("deny_domains[{at}]"),
                FieldProblem::Conflict("the same domain is also in allow_domains"),
            ));
        }
        Ok(profile)
    }
}

fn check_name(name: &str) -> Result<(), FieldProblem> {
    if name.trim().is_empty() {
        Err(FieldProblem::Invalid("must not be empty"))
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(FieldProblem::TooLong {
            max: MAX_NAME_CHARS,
        })
    } else if name.chars().any(char::is_control) {
        Err(FieldProblem::Invalid("must not contain control characters"))
    } else {
        Ok(())
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Turns a serde error into a field error, keeping the path but not serde's message, which can quote values.
fn from_serde<E: fmt::Display>(err: serde_path_to_error::Error<E>) -> ProfileError {
    let message = err.inner().to_string();
    let mut field = err.path().to_string();
    let problem = if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        field = if field == "." {
            name.to_owned()
        } else {
            format!("{field}.{name}")
        };
        FieldProblem::Missing
    } else if message.starts_with("unknown field") {
        // The path already ends with the unknown key.
        FieldProblem::Unknown
    } else if message.starts_with("invalid type") {
        FieldProblem::WrongType
    } else if message.starts_with("unknown variant") {
        FieldProblem::Invalid("not one of the accepted values")
    } else {
        FieldProblem::Invalid("invalid value")
    };
    if field == "." {
        field = "(profile)".to_owned();
    }
    ProfileError::field(field, problem)
}

/// A profile's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFormat {
    /// TOML (the default for files).
    Toml,
    /// JSON.
    Json,
}

impl ProfileFormat {
    /// `Json` for a `.json` extension, `Toml` otherwise.
    pub fn from_path(path: &Path) -> ProfileFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => ProfileFormat::Json,
            _ => ProfileFormat::Toml,
        }
    }
}

impl fmt::Display for ProfileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileFormat::Toml => "TOML",
            ProfileFormat::Json => "JSON",
        })
    }
}

/// What is wrong with a profile field. Never carries the field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// A required field is absent.
    #[error("is required")]
    Missing,
    /// The field is not part of the profile format.
    #[error("is not a known field")]
    Unknown,
    /// The value has the wrong type (a number where a string belongs...).
    #[error("has the wrong type")]
    WrongType,
    /// The value is not acceptable; the text says why.
    #[error("{0}")]
    Invalid(&'static str),
    /// The value is too long.
    #[error("is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A list has too many entries.
    #[error("has more than {max} entries")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// Two settings contradict each other.
    #[error("{0}")]
    Conflict(&'static str),
    /// The category's rule is fixed (known abuse material) and cannot be overridden.
    #[error("cannot be overridden")]
    NotOverridable,
}

/// Why a profile could not be read, written or changed.
///
/// The message names the field and the problem, never a value from the profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file is not well-formed TOML or JSON.
    #[error("profile is not valid {format} (line {line}, column {column})")]
    Syntax {
        /// The format that was expected.
        format: ProfileFormat,
        /// 1-based line of the error (0 if unknown).
        line: usize,
        /// 1-based column of the error (0 if unknown).
        column: usize,
    },
    /// A field is missing, unknown or has an unacceptable value.
    #[error("profile field `{field}` {problem}")]
    Field {
        /// Path of the field, e.g. `allow_domains[2]` or `overrides.known_abuse`.
        field: String,
        /// What is wrong with it.
        problem: FieldProblem,
    },
    /// The profile file is larger than Haven reads.
    #[error("profile file is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: u64,
    },
    /// Reading or writing the file failed.
    #[error("profile file could not be read or written ({kind})")]
    Io {
        /// The kind of I/O error.
        kind: std::io::ErrorKind,
    },
}

impl ProfileError {
    fn field(field: impl Into<String>, problem: FieldProblem) -> ProfileError {
        let mut field = field.into();
        if field.len() > MAX_FIELD_PATH {
            let mut cut = MAX_FIELD_PATH;
            while !field.is_char_boundary(cut) {
                cut -= 1;
            }
            field.truncate(cut);
            field.push('…');
        }
        ProfileError::Field { field, problem }
    }

    /// The path of the offending field, for [`ProfileError::Field`].
    pub fn field_name(&self) -> Option<&str> {
        match self {
            ProfileError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}
