//! Haven for Kotlin, Swift and Python: a thin [UniFFI](https://mozilla.github.io/uniffi-rs/) layer over
//! `haven-core`, in the style of mozilla/application-services.
//!
//! - One object, [`Haven`], built from a [`HavenConfig`] and the child's [`Profile`]; every check uses the
//!   current profile. It is thread-safe: call it from any thread; [`Haven::set_profile`] and [`Haven::reload`]
//!   swap immutable engines atomically, so checks running meanwhile finish on the old ones.
//! - Records and enums here are FFI-only copies of the core's types, converted with `From`; UniFFI stays out of
//!   the core.
//! - One small public error enum, [`HavenError`], mapped from the core's errors in one place ([`From`] impls
//!   below). No error message ever contains the URL, text or image being checked.
//! - Image calls can take tens of milliseconds: [`Haven::check_image_async`] and [`Haven::match_image_async`]
//!   run on a worker thread and are `suspend` functions in Kotlin, `async` in Swift and Python, so a UI thread
//!   never waits on them.
//!
//! Text spans in [`Evidence`] are byte offsets into the UTF-8 encoding of the checked text.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use haven_core::classify::{BuiltinModel, ClassifierConfig, ClassifyError, ImageClassifier, text};
use haven_core::hash::HashMatch as CoreHashMatch;
use haven_core::lists::{self, ListsDirError};
use haven_core::text::{ChatMessage as CoreChatMessage, TextContext};
use haven_core::verdict::{self, Reason};

uniffi::setup_scaffolding!();

/// Why a call failed. Messages describe the problem, never the content that was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HavenError {
    /// The input could not be checked: a malformed URL, a text over the length limit, an image that does not
    /// decode or is too large, an invalid profile field.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What was wrong.
        reason: String,
    },
    /// The image classifier could not be loaded: ONNX Runtime or the model file is missing or does not match
    /// its checksum.
    #[error("model unavailable: {reason}")]
    ModelUnavailable {
        /// What is missing.
        reason: String,
    },
    /// A compiled list in the lists directory is corrupt, truncated or of an unknown version.
    #[error("list error: {reason}")]
    ListError {
        /// Which file, and what is wrong with it.
        reason: String,
    },
    /// Haven could not do its work for a reason that is not the input: the lists directory cannot be read,
    /// inference failed, a worker thread stopped.
    #[error("internal error: {reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

impl From<haven_core::Error> for HavenError {
    fn from(e: haven_core::Error) -> Self {
        match e {
            haven_core::Error::Classify(c) => c.into(),
            haven_core::Error::Catalogue(_) | haven_core::Error::Help(_) => HavenError::Internal {
                reason: e.to_string(),
            },
            other => HavenError::InvalidInput {
                reason: other.to_string(),
            },
        }
    }
}

impl From<ClassifyError> for HavenError {
    fn from(e: ClassifyError) -> Self {
        let reason = e.to_string();
        match e {
            ClassifyError::ModelUnavailable(_)
            | ClassifyError::ModelCorrupt
            | ClassifyError::Manifest(_)
            | ClassifyError::UnknownModel => HavenError::ModelUnavailable { reason },
            ClassifyError::Image(_) => HavenError::InvalidInput { reason },
            _ => HavenError::Internal { reason },
        }
    }
}

impl From<haven_core::policy::ProfileError> for HavenError {
    fn from(e: haven_core::policy::ProfileError) -> Self {
        HavenError::InvalidInput {
            reason: e.to_string(),
        }
    }
}

impl From<haven_core::hash::image::ImageError> for HavenError {
    fn from(e: haven_core::hash::image::ImageError) -> Self {
        HavenError::InvalidInput {
            reason: e.to_string(),
        }
    }
}

/// How a [`Haven`] is set up.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct HavenConfig {
    /// A directory of compiled lists: URL category lists (`*.hvl`) and hash lists (`*.hvh`), as
    /// `haven lists compile` writes them. `None`: the built-in seed lists only, no hash lists.
    #[uniffi(default = None)]
    pub lists_dir: Option<String>,
    /// The image classifier: `nsfwjs-mobilenet-v2` (the default model), `nsfwjs-mobilenet-v2-int8` or
    /// `open-nsfw`. `None`: images are checked against the hash lists only.
    #[uniffi(default = None)]
    pub image_model: Option<String>,
    /// The installed models directory (`<model id>/<file>`); `None`: `$HAVEN_MODELS_DIR`, else `.haven/models`.
    #[uniffi(default = None)]
    pub models_dir: Option<String>,
    /// The ONNX Runtime shared library; `None`: `$HAVEN_ORT_DYLIB`, else the project-local default.
    #[uniffi(default = None)]
    pub ort_library: Option<String>,
    /// Threads one image inference may use (0: 1).
    #[uniffi(default = 1)]
    pub inference_threads: u32,
    /// Images that can be classified at the same moment (each costs the model's memory again; 0: 1).
    #[uniffi(default = 1)]
    pub image_sessions: u32,
    /// The toxic-message classifier for `check_text` and `check_conversation`: `haven-toxic-fast` (six
    /// languages, compiled in: needs only ONNX Runtime) or `haven-toxic-minilm` (the fast model plus the English
    /// transformer, which must be installed in the models directory). `None`: lexicons only. Each model gets
    /// `image_sessions` sessions (messages scored at the same moment) with one thread each.
    #[uniffi(default = None)]
    pub text_model: Option<String>,
}

/// An age tier: the policy follows the child's age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AgeTier {
    /// Younger than 9.
    Under9,
    /// 9 to 12.
    Age9To12,
    /// 13 to 15.
    Age13To15,
    /// 16 or 17.
    Age16To17,
    /// 18 or older.
    Adult,
}

impl From<AgeTier> for haven_core::AgeTier {
    fn from(t: AgeTier) -> Self {
        match t {
            AgeTier::Under9 => haven_core::AgeTier::Under9,
            AgeTier::Age9To12 => haven_core::AgeTier::Age9To12,
            AgeTier::Age13To15 => haven_core::AgeTier::Age13To15,
            AgeTier::Age16To17 => haven_core::AgeTier::Age16To17,
            AgeTier::Adult => haven_core::AgeTier::Adult,
        }
    }
}

impl From<haven_core::AgeTier> for AgeTier {
    fn from(t: haven_core::AgeTier) -> Self {
        match t {
            haven_core::AgeTier::Under9 => AgeTier::Under9,
            haven_core::AgeTier::Age9To12 => AgeTier::Age9To12,
            haven_core::AgeTier::Age13To15 => AgeTier::Age13To15,
            haven_core::AgeTier::Age16To17 => AgeTier::Age16To17,
            haven_core::AgeTier::Adult => AgeTier::Adult,
        }
    }
}

/// A child's profile: the age tier and the family's own settings.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Profile {
    /// The child's name or nickname (shown to the parent, never sent anywhere).
    pub name: String,
    /// The age tier.
    pub tier: AgeTier,
    /// The child's language: `ar`, `en`, `es`, `fr`, `ru` or `zh` (a locale such as `fr-CA` is accepted).
    #[uniffi(default = "en")]
    pub language: String,
    /// Two-letter country code (ISO 3166-1), for helplines.
    #[uniffi(default = None)]
    pub country: Option<String>,
    /// Domains the parent allows whatever their category (subdomains included; known abuse stays blocked).
    #[uniffi(default = [])]
    pub allow_domains: Vec<String>,
    /// Domains the parent blocks (subdomains included).
    #[uniffi(default = [])]
    pub deny_domains: Vec<String>,
    /// Only the allowed domains may be opened.
    #[uniffi(default = false)]
    pub allowlist_only: bool,
}

impl TryFrom<Profile> for haven_core::Profile {
    type Error = HavenError;

    fn try_from(p: Profile) -> Result<Self, HavenError> {
        let mut profile = haven_core::Profile::new(p.name, p.tier.into())?;
        profile.set_language(parse_language(&p.language)?);
        if let Some(country) = p.country {
            profile.set_country(Some(
                country
                    .parse()
                    .map_err(|_| invalid("country: expected a two-letter ISO 3166-1 code"))?,
            ));
        }
        for domain in &p.allow_domains {
            profile.allow_domain(domain)?;
        }
        for domain in &p.deny_domains {
            profile.deny_domain(domain)?;
        }
        profile.set_allowlist_only(p.allowlist_only);
        Ok(profile)
    }
}

impl From<&haven_core::Profile> for Profile {
    fn from(p: &haven_core::Profile) -> Self {
        Profile {
            name: p.name().to_owned(),
            tier: p.tier().into(),
            language: p.language().code().to_owned(),
            country: p.country().map(|c| c.to_string()),
            allow_domains: p.allow_domains().iter().map(str::to_owned).collect(),
            deny_domains: p.deny_domains().iter().map(str::to_owned).collect(),
            allowlist_only: p.allowlist_only(),
        }
    }
}

fn invalid(reason: &str) -> HavenError {
    HavenError::InvalidInput {
        reason: reason.to_owned(),
    }
}

fn parse_language(code: &str) -> Result<haven_core::i18n::Language, HavenError> {
    code.parse()
        .map_err(|_| invalid("language: expected one of ar, en, es, fr, ru, zh"))
}

/// What a check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Action {
    /// Show it.
    Allow,
    /// Explain why it may not be a good idea; the child may continue.
    Warn,
    /// Do not show or send it.
    Block,
}

impl From<haven_core::Action> for Action {
    fn from(a: haven_core::Action) -> Self {
        match a {
            haven_core::Action::Allow => Action::Allow,
            haven_core::Action::Warn => Action::Warn,
            haven_core::Action::Block => Action::Block,
        }
    }
}

/// Who wrote a text, seen from the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Direction {
    /// To the child.
    Incoming,
    /// From the child (personal data is looked for only here).
    Outgoing,
}

impl From<Direction> for haven_core::text::Direction {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Incoming => haven_core::text::Direction::Incoming,
            Direction::Outgoing => haven_core::text::Direction::Outgoing,
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatMessage {
    /// Who wrote it.
    pub direction: Direction,
    /// The message.
    pub text: String,
    /// When it was sent, in seconds since the Unix epoch (only differences matter).
    #[uniffi(default = 0)]
    pub sent_at: u64,
}

/// A category found, with the model's or rule's confidence and the action the profile gives it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CategoryScore {
    /// The category's stable identifier (`profanity`, `bullying`, `gambling`, `known_abuse`, …).
    pub category: String,
    /// 0–1.
    pub confidence: f32,
    /// What the profile does with it.
    pub action: Action,
}

/// Why a verdict was reached: one piece of evidence.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Evidence {
    /// The engine: `url`, `text`, `hash`, `classifier` or `profile`.
    pub engine: String,
    /// The category it supports.
    pub category: Option<String>,
    /// The list or model behind it.
    pub source_id: Option<String>,
    /// That list's or model's version.
    pub source_version: Option<String>,
    /// The rule, list entry or expression that matched.
    pub rule: Option<String>,
    /// Where in the text it was found: UTF-8 byte offsets, start inclusive.
    pub span_start: Option<u64>,
    /// End of the span, exclusive.
    pub span_end: Option<u64>,
    /// A model's score.
    pub score: Option<f32>,
    /// In a conversation check, the index of the message.
    pub message_index: Option<u64>,
}

impl From<&verdict::Evidence> for Evidence {
    fn from(e: &verdict::Evidence) -> Self {
        Evidence {
            engine: e.engine.id().to_owned(),
            category: e.category.map(|c| c.to_string()),
            source_id: e.source.as_ref().map(|s| s.id.clone()),
            source_version: e.source.as_ref().map(|s| s.version.clone()),
            rule: e.rule.clone(),
            span_start: e.span.map(|s| s.start as u64),
            span_end: e.span.map(|s| s.end as u64),
            score: e.score,
            message_index: e.message.map(|m| m as u64),
        }
    }
}

/// The child-facing explanation, in the profile's language.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Message {
    /// The language code.
    pub language: String,
    /// Lay the text out right to left (Arabic).
    pub right_to_left: bool,
    /// A short heading.
    pub title: String,
    /// Why.
    pub body: String,
    /// What the child can do now.
    pub next_step: String,
    /// The heading in easy-read wording (short sentences, common words).
    pub easy_read_title: String,
    /// Why, in easy-read wording.
    pub easy_read_body: String,
    /// What to do now, in easy-read wording.
    pub easy_read_next_step: String,
}

impl From<&verdict::Message> for Message {
    fn from(m: &verdict::Message) -> Self {
        Message {
            language: m.language.code().to_owned(),
            right_to_left: m.direction == haven_core::i18n::TextDirection::Rtl,
            title: m.standard.title.clone(),
            body: m.standard.body.clone(),
            next_step: m.standard.next_step.clone(),
            easy_read_title: m.easy_read.title.clone(),
            easy_read_body: m.easy_read.body.clone(),
            easy_read_next_step: m.easy_read.next_step.clone(),
        }
    }
}

/// A helpline.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HelpContact {
    /// The service's name.
    pub name: String,
    /// Phone number as the service writes it.
    pub phone: Option<String>,
    /// Number for text messages.
    pub sms: Option<String>,
    /// Web address.
    pub url: Option<String>,
}

/// Where the child can find help; always starts with "talk to an adult you trust".
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HelpPointer {
    /// "Talk to an adult you trust", for the child's age.
    pub text: String,
    /// The same in easy-read wording.
    pub easy_read: String,
    /// Helplines for the child's country and the categories found (may be empty).
    pub contacts: Vec<HelpContact>,
}

impl From<&verdict::HelpPointer> for HelpPointer {
    fn from(h: &verdict::HelpPointer) -> Self {
        HelpPointer {
            text: h.text.clone(),
            easy_read: h.easy_read.clone(),
            contacts: h
                .contacts
                .iter()
                .map(|c| HelpContact {
                    name: c.name.clone(),
                    phone: c.phone.clone(),
                    sms: c.sms.clone(),
                    url: c.url.clone(),
                })
                .collect(),
        }
    }
}

/// The answer to a check.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Verdict {
    /// Allow, warn or block.
    pub action: Action,
    /// The profile asks for the parent to be told.
    pub notify_parent: bool,
    /// Help should be offered to the child.
    pub offer_help: bool,
    /// What the message explains: a category identifier, `parent_denied` or `not_in_allowlist`.
    pub reason: Option<String>,
    /// The categories found.
    pub categories: Vec<CategoryScore>,
    /// Why.
    pub evidence: Vec<Evidence>,
    /// The child's message (absent for allow).
    pub message: Option<Message>,
    /// Where to find help, when help is offered.
    pub help: Option<HelpPointer>,
    /// A safer URL to open instead (SafeSearch), when there is one.
    pub redirect: Option<String>,
}

impl From<verdict::Verdict> for Verdict {
    fn from(v: verdict::Verdict) -> Self {
        Verdict {
            action: v.action.into(),
            notify_parent: v.notify_parent,
            offer_help: v.offer_help,
            reason: v.reason.map(|r| match r {
                Reason::Category(c) => c.to_string(),
                Reason::ParentDenied => "parent_denied".to_owned(),
                Reason::NotInAllowlist => "not_in_allowlist".to_owned(),
                _ => "other".to_owned(),
            }),
            categories: v
                .categories
                .iter()
                .map(|c| CategoryScore {
                    category: c.category.to_string(),
                    confidence: c.confidence,
                    action: c.action.into(),
                })
                .collect(),
            evidence: v.evidence.iter().map(Evidence::from).collect(),
            message: v.message.as_ref().map(Message::from),
            help: v.help.as_ref().map(HelpPointer::from),
            redirect: v.redirect,
        }
    }
}

/// A PDQ perceptual hash.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PdqHash {
    /// 64 hex digits.
    pub hex: String,
    /// 0–100; below 50 the hash never matches.
    pub quality: u8,
}

/// An image found on a hash list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HashMatch {
    /// The list's id.
    pub list_id: String,
    /// The list's version.
    pub list_version: String,
    /// The kind of hash: `md5`, `sha1`, `blake3` or `pdq`.
    pub kind: String,
    /// The entry's id in the list.
    pub entry: u32,
    /// Bits apart (0 for exact hashes).
    pub distance: u32,
}

impl From<&CoreHashMatch> for HashMatch {
    fn from(m: &CoreHashMatch) -> Self {
        let meta = &m.list.meta().list;
        HashMatch {
            list_id: meta.id.clone(),
            list_version: meta.version.clone(),
            kind: m.kind.to_string(),
            entry: m.entry,
            distance: m.distance,
        }
    }
}

/// The engines and the profile in use; replaced whole, never changed in place.
struct State {
    haven: haven_core::Haven,
    profile: haven_core::Profile,
}

/// Haven: checks URLs, texts and images for one child's profile, on the device.
#[derive(uniffi::Object)]
pub struct Haven {
    config: HavenConfig,
    state: ArcSwap<State>,
    /// Serialises writers (`set_profile`, `reload`) so that neither loses the other's change.
    writer: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Haven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Haven").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Haven {
    /// Loads the lists (and the image model, when the config names one) and sets the child's profile.
    #[uniffi::constructor]
    pub fn new(config: HavenConfig, profile: Profile) -> Result<Arc<Haven>, HavenError> {
        let profile = haven_core::Profile::try_from(profile)?;
        let haven = load(&config)?;
        Ok(Arc::new(Haven {
            config,
            state: ArcSwap::from_pointee(State { haven, profile }),
            writer: std::sync::Mutex::new(()),
        }))
    }

    /// May the child open this URL?
    pub fn check_url(&self, url: String) -> Result<Verdict, HavenError> {
        let state = self.state.load();
        Ok(state.haven.check_url(&state.profile, &url)?.into())
    }

    /// Checks one text the child receives or sends; `language` is the text's language when the app knows it
    /// (else the profile's).
    pub fn check_text(
        &self,
        text: String,
        direction: Direction,
        language: Option<String>,
    ) -> Result<Verdict, HavenError> {
        let state = self.state.load();
        let context = context(direction, language)?;
        Ok(state
            .haven
            .check_text(&state.profile, &text, &context)?
            .into())
    }

    /// Checks a conversation, oldest message first: every message, and grooming risk over all of them.
    pub fn check_conversation(
        &self,
        messages: Vec<ChatMessage>,
        language: Option<String>,
    ) -> Result<Verdict, HavenError> {
        let state = self.state.load();
        let context = context(Direction::Incoming, language)?;
        let messages: Vec<CoreChatMessage> = messages
            .into_iter()
            .map(|m| CoreChatMessage {
                direction: m.direction.into(),
                text: m.text,
                sent_at: m.sent_at,
            })
            .collect();
        Ok(state
            .haven
            .check_conversation(&state.profile, &messages, &context)?
            .into())
    }

    /// The text with what the profile would not let through replaced by `*`, character for character.
    pub fn mask_text(
        &self,
        text: String,
        direction: Direction,
        language: Option<String>,
    ) -> Result<String, HavenError> {
        let state = self.state.load();
        let context = context(direction, language)?;
        Ok(state.haven.mask_text(&state.profile, &text, &context)?)
    }

    /// Checks an image (PNG, JPEG, WebP, GIF) against the hash lists and, when configured, the image
    /// classifier. The image is not kept. Blocks the calling thread; see [`Haven::check_image_async`].
    pub fn check_image(&self, image: Vec<u8>) -> Result<Verdict, HavenError> {
        let state = self.state.load();
        Ok(state.haven.check_image(&state.profile, &image)?.into())
    }

    /// [`Haven::check_image`] on a worker thread: `suspend` in Kotlin, `async` in Swift and Python.
    pub async fn check_image_async(self: Arc<Self>, image: Vec<u8>) -> Result<Verdict, HavenError> {
        on_worker(move || self.check_image(image)).await?
    }

    /// The PDQ hash of an image.
    pub fn pdq_hash(&self, image: Vec<u8>) -> Result<PdqHash, HavenError> {
        let state = self.state.load();
        let hashes = state.haven.hash_engine().hash_image(&image)?;
        let pdq = hashes
            .pdq
            .ok_or_else(|| invalid("the image is too small for a PDQ hash"))?;
        Ok(PdqHash {
            hex: pdq.hash.to_hex(),
            quality: pdq.quality,
        })
    }

    /// The hash-list entries an image matches (exact digests, and PDQ within the lists' radius).
    pub fn match_image(&self, image: Vec<u8>) -> Result<Vec<HashMatch>, HavenError> {
        let state = self.state.load();
        let matches = state.haven.hash_engine().match_image(&image)?;
        Ok(matches.iter().map(HashMatch::from).collect())
    }

    /// [`Haven::match_image`] on a worker thread: `suspend` in Kotlin, `async` in Swift and Python.
    pub async fn match_image_async(
        self: Arc<Self>,
        image: Vec<u8>,
    ) -> Result<Vec<HashMatch>, HavenError> {
        on_worker(move || self.match_image(image)).await?
    }

    /// Replaces the profile; checks from now on use it.
    pub fn set_profile(&self, profile: Profile) -> Result<(), HavenError> {
        let profile = haven_core::Profile::try_from(profile)?;
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let haven = self.state.load().haven.clone();
        self.state.store(Arc::new(State { haven, profile }));
        Ok(())
    }

    /// The profile in use.
    pub fn profile(&self) -> Profile {
        Profile::from(&self.state.load().profile)
    }

    /// Reads the lists directory (and the model) again. On error the engines in use stay as they were.
    pub fn reload(&self) -> Result<(), HavenError> {
        let haven = load(&self.config)?;
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let profile = self.state.load().profile.clone();
        self.state.store(Arc::new(State { haven, profile }));
        Ok(())
    }
}

fn context(direction: Direction, language: Option<String>) -> Result<TextContext, HavenError> {
    let context = TextContext {
        direction: direction.into(),
        language: None,
    };
    Ok(match language {
        Some(code) => context.with_language(parse_language(&code)?),
        None => context,
    })
}

/// Runs `work` on a new thread and waits for it without blocking the caller's thread.
async fn on_worker<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HavenError> {
    let (sender, receiver) = futures_channel::oneshot::channel();
    std::thread::Builder::new()
        .name("haven-ffi-worker".to_owned())
        .spawn(move || {
            // The receiver may be gone (the caller cancelled): nothing to do then.
            let _ = sender.send(work());
        })
        .map_err(|e| HavenError::Internal {
            reason: format!("cannot start a worker thread ({})", e.kind()),
        })?;
    receiver.await.map_err(|_| HavenError::Internal {
        reason: "the worker thread stopped".to_owned(),
    })
}

/// The core engine for a config: built-in lists plus the directory's compiled lists, and the image model.
fn load(config: &HavenConfig) -> Result<haven_core::Haven, HavenError> {
    let dir = config.lists_dir.as_deref().map(Path::new);
    if let Some(dir) = dir {
        // A configured directory must exist: an app that names one and gets no lists should hear of it.
        std::fs::metadata(dir).map_err(|e| lists_dir_error(ListsDirError::Io(e.kind())))?;
    }
    let urls = lists::url_engine(dir).map_err(lists_dir_error)?;
    let hashes = lists::hash_engine(dir).map_err(lists_dir_error)?;
    let mut haven = haven_core::Haven::new()
        .with_url_engine(urls)
        .with_hash_engine(hashes);
    if let Some(model) = &config.image_model {
        let model: BuiltinModel = model.parse().map_err(|_| HavenError::ModelUnavailable {
            reason: "unknown image model".to_owned(),
        })?;
        let classifier = ImageClassifier::load(&ClassifierConfig {
            model,
            runtime: config.ort_library.as_ref().map(PathBuf::from),
            models_dir: config.models_dir.as_ref().map(PathBuf::from),
            intra_threads: config.inference_threads.max(1) as usize,
            sessions: config.image_sessions.max(1) as usize,
            ..ClassifierConfig::default()
        })?;
        haven = haven.with_image_classifier(Arc::new(classifier));
    }
    if let Some(model) = &config.text_model {
        let transformer = match model.as_str() {
            text::FAST_MODEL_ID => false,
            text::MINILM_MODEL_ID => true,
            _ => {
                return Err(HavenError::ModelUnavailable {
                    reason: "unknown text model".to_owned(),
                });
            }
        };
        let classifier = text::TextClassifier::load(&text::TextClassifierConfig {
            runtime: config.ort_library.as_ref().map(PathBuf::from),
            models_dir: config.models_dir.as_ref().map(PathBuf::from),
            transformer,
            intra_threads: 1,
            sessions: config.image_sessions.max(1) as usize,
        })?;
        haven = haven.with_text_classifier(Arc::new(classifier));
    }
    Ok(haven)
}

/// A broken list is a `ListError`; a directory that cannot be read is `Internal`.
fn lists_dir_error(e: ListsDirError) -> HavenError {
    match e {
        ListsDirError::List { file, error } => HavenError::ListError {
            reason: format!("{file}: {error}"),
        },
        ListsDirError::HashList { file, error } => HavenError::ListError {
            reason: format!("{file}: {error}"),
        },
        other => HavenError::Internal {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
