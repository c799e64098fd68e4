//! `haven`: check content against a child's profile from the command line.
//!
//! Exit codes: 0 allow, 1 warn, 2 block; 3 usage error, 4 invalid input, 5 invalid profile, 6 other errors.
//! Error messages never repeat the URL or text being checked.

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use haven_core::i18n::Language;
use haven_core::policy::{AgeTier, Category, Country, Profile, default_rule};
use haven_core::text::{Normalized, TextContext};
use haven_core::verdict::{Engine, Evidence, Finding};
use haven_core::{Action, Haven, Verdict};

mod hashes;
mod images;
mod lists;
mod render;

/// Haven: on-device content safety for children.
#[derive(Parser)]
#[command(name = "haven", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check content against a child's profile. Exit code: 0 allow, 1 warn, 2 block.
    #[command(subcommand)]
    Check(Check),
    /// Work with profile files.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Show the verdict and message a child would get if content of a category were found.
    Preview {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        format: Format,
        /// The category, e.g. self_harm or gambling (see `haven policy`).
        category: String,
    },
    /// Print the default policy matrix (category × age tier) as a Markdown table.
    Policy,
    /// Compile and inspect block lists.
    #[command(subcommand)]
    Lists(lists::ListsCommand),
    /// Work with URLs.
    #[command(subcommand)]
    Url(lists::UrlCommand),
    /// Hash images (PDQ, MD5, SHA-1, BLAKE3) and match them against hash lists.
    #[command(subcommand)]
    Hash(hashes::HashCommand),
    /// The parent credential that guards havend's administration.
    #[command(subcommand)]
    Parent(ParentCommand),
    /// The parent's audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Work with texts: mask what a profile would not let through, show the matching form.
    #[command(subcommand)]
    Text(TextCommand),
}

#[derive(Subcommand)]
enum TextCommand {
    /// Print the text with what the profile would not let through masked (`*`) at its original positions.
    Mask {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        text: TextInput,
    },
    /// Print the matching form the lexicons see (a debug view of the normaliser).
    Normalize {
        /// The text, or `-` to read it from standard input.
        text: String,
    },
}

/// A text to check and who wrote it.
#[derive(Args)]
struct TextInput {
    /// The child is sending this text (personal data is looked for only in what the child sends).
    #[arg(long)]
    outgoing: bool,
    /// The text, or `-` to read it from standard input.
    text: String,
}

impl TextInput {
    fn context(&self) -> TextContext {
        if self.outgoing {
            TextContext::outgoing()
        } else {
            TextContext::incoming()
        }
    }
}

/// The toxic-message classifier for `haven check text`.
#[derive(Args)]
struct TextModelArgs {
    /// Also score the text with the toxic-message models (the fast model; for English also MiniLM, when
    /// installed): their findings join the lexicon's. Needs ONNX Runtime (scripts/fetch-models.sh).
    #[arg(long)]
    classifier: bool,
    /// The ONNX Runtime library (default: $HAVEN_ORT_DYLIB, else .haven/runtime/libonnxruntime.so.1.32.0).
    #[arg(long, requires = "classifier")]
    ort_dylib: Option<PathBuf>,
    /// The installed models directory (default: $HAVEN_MODELS_DIR, else .haven/models).
    #[arg(long, requires = "classifier")]
    models_dir: Option<PathBuf>,
}

impl TextModelArgs {
    /// The engine: lexicons only, or with the classifier (MiniLM too when installed).
    fn haven(&self) -> Result<Haven, Failure> {
        if !self.classifier {
            return Ok(Haven::new());
        }
        let mut config = haven_core::classify::text::TextClassifierConfig {
            runtime: self.ort_dylib.clone(),
            models_dir: self.models_dir.clone(),
            ..Default::default()
        };
        let classifier = haven_core::classify::text::TextClassifier::load(&config)
            .or_else(|_| {
                config.transformer = false;
                haven_core::classify::text::TextClassifier::load(&config)
            })
            .map_err(|e| Failure::other(format!("{e} (scripts/fetch-models.sh installs it)")))?;
        Ok(Haven::new().with_text_classifier(std::sync::Arc::new(classifier)))
    }
}

/// The text argument, or standard input for `-`.
fn read_text(text: &str) -> Result<String, Failure> {
    if text != "-" {
        return Ok(text.to_owned());
    }
    let mut buffer = String::new();
    io::Read::read_to_string(&mut io::stdin().lock(), &mut buffer)
        .map_err(|e| Failure::input(format!("cannot read the text ({})", e.kind())))?;
    Ok(buffer)
}

#[derive(Subcommand)]
enum ParentCommand {
    /// Set the parent passphrase (stored only as an Argon2id hash, readable by its owner alone).
    ///
    /// Reads from standard input: the new passphrase on one line; when one is already set, the current
    /// passphrase on the first line and the new one on the second.
    SetPassphrase {
        /// havend's data directory.
        #[arg(long, env = "HAVEN_DATA_DIR", default_value = "/var/lib/haven")]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit log's BLAKE3 chain, rotated files and head: exit 0 if intact, 4 if tampered or truncated.
    Verify {
        /// havend's data directory (the log is DATA_DIR/audit.jsonl).
        #[arg(long, env = "HAVEN_DATA_DIR", default_value = "/var/lib/haven")]
        data_dir: PathBuf,
        /// The live log file, instead of the one in the data directory.
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Check {
    /// May the child open this URL?
    Url {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        format: Format,
        /// A directory of compiled lists (*.hvl) to use besides the built-in ones.
        #[arg(long, env = "HAVEN_LISTS_DIR")]
        lists: Option<PathBuf>,
        /// The URL (a bare domain is read as http://).
        url: String,
    },
    /// May the child read (or send, with --outgoing) this text? Lexicons of the profile's language (or
    /// --lang), English and the scripts in the text apply.
    Text {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        format: Format,
        #[command(flatten)]
        text: TextInput,
        #[command(flatten)]
        model: TextModelArgs,
    },
    /// Is this image safe for the child? Classified on the device by an ONNX model (nudity, sexual content).
    Image(images::ImageCheck),
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// Validate a profile file and print the rules in force for it.
    Check {
        /// Profile file (.toml or .json).
        file: PathBuf,
    },
    /// Write a new profile file with the defaults for an age.
    New {
        /// The profile's display name.
        #[arg(long)]
        name: String,
        /// The child's age in years.
        #[arg(long)]
        age: u32,
        /// Message language (ar, en, es, fr, ru, zh).
        #[arg(long, default_value = "en")]
        lang: String,
        /// ISO 3166-1 alpha-2 country code, to choose help lines.
        #[arg(long)]
        country: Option<String>,
        /// Only allow domains on the profile's allowlist.
        #[arg(long)]
        allowlist_only: bool,
        /// Where to write it (.toml or .json).
        file: PathBuf,
    },
}

/// Who the check is for.
#[derive(Args)]
struct Who {
    /// The child's age in years (uses the default policy for that age). Default: under 9, the strictest.
    #[arg(long, conflicts_with = "profile")]
    age: Option<u32>,
    /// A profile file (.toml or .json).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Message language, overriding the profile's (ar, en, es, fr, ru, zh).
    #[arg(long)]
    lang: Option<String>,
    /// Country for help lines, overriding the profile's (ISO 3166-1 alpha-2).
    #[arg(long)]
    country: Option<String>,
}

/// How a verdict is printed.
#[derive(Args)]
struct Format {
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    /// Show the easy-read wording of the message.
    #[arg(long)]
    easy_read: bool,
}

impl Format {
    /// Prints the verdict and returns the exit code it maps to.
    fn print(
        &self,
        out: &mut impl Write,
        verdict: &Verdict,
        profile: &Profile,
    ) -> Result<u8, Failure> {
        let printed = if self.json {
            writeln!(out, "{}", verdict.to_json())
        } else {
            render::verdict(out, verdict, profile, self.easy_read)
        };
        printed.map_err(write_failure)?;
        Ok(match verdict.action {
            Action::Allow => 0,
            Action::Warn => 1,
            Action::Block => 2,
        })
    }
}

fn write_failure(e: io::Error) -> Failure {
    Failure::other(format!("cannot write output ({})", e.kind()))
}

/// A failure, with the exit code it maps to. Messages never contain the checked content.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn input(message: impl ToString) -> Failure {
        Failure {
            code: 4,
            message: message.to_string(),
        }
    }
    fn profile(message: impl ToString) -> Failure {
        Failure {
            code: 5,
            message: message.to_string(),
        }
    }
    fn other(message: impl ToString) -> Failure {
        Failure {
            code: 6,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap would exit with 2, which here means "block": map usage errors to 3.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            let _ = writeln!(io::stderr(), "haven: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    let mut out = io::stdout().lock();
    match cli.command {
        Command::Check(Check::Url {
            who,
            format,
            lists,
            url,
        }) => {
            let profile = who.profile()?;
            let verdict = Haven::new()
                .with_url_engine(lists::engine_with(lists.as_deref())?)
                .check_url(&profile, &url)
                .map_err(Failure::input)?;
            format.print(&mut out, &verdict, &profile)
        }
        Command::Check(Check::Text {
            who,
            format,
            text,
            model,
        }) => {
            let profile = who.profile()?;
            let verdict = model
                .haven()?
                .check_text(&profile, &read_text(&text.text)?, &text.context())
                .map_err(Failure::input)?;
            format.print(&mut out, &verdict, &profile)
        }
        Command::Text(TextCommand::Mask { who, text }) => {
            let profile = who.profile()?;
            let masked = Haven::new()
                .mask_text(&profile, &read_text(&text.text)?, &text.context())
                .map_err(Failure::input)?;
            writeln!(out, "{masked}").map_err(write_failure)?;
            Ok(0)
        }
        Command::Text(TextCommand::Normalize { text }) => {
            let text = read_text(&text)?;
            haven_core::text::check_length(&text).map_err(Failure::input)?;
            writeln!(out, "{}", Normalized::new(&text).as_str()).map_err(write_failure)?;
            Ok(0)
        }
        Command::Check(Check::Image(check)) => images::run(check, &mut out),
        Command::Preview {
            who,
            format,
            category,
        } => {
            let category: Category = category
                .parse()
                .map_err(|_| Failure::input("unknown category (see `haven policy`)"))?;
            let profile = who.profile()?;
            let finding = Finding {
                category,
                confidence: 1.0,
                evidence: Evidence::new(Engine::Profile).with_rule("preview"),
            };
            let verdict = Haven::new().decide(&profile, vec![finding]);
            format.print(&mut out, &verdict, &profile)
        }
        Command::Profile(ProfileCommand::Check { file }) => {
            let profile = Profile::load(&file).map_err(Failure::profile)?;
            render::profile(&mut out, &profile).map_err(write_failure)?;
            Ok(0)
        }
        Command::Profile(ProfileCommand::New {
            name,
            age,
            lang,
            country,
            allowlist_only,
            file,
        }) => {
            let mut profile = Profile::for_age(name, age).map_err(Failure::profile)?;
            profile.set_language(parse_language(&lang)?);
            profile.set_country(country.as_deref().map(parse_country).transpose()?);
            profile.set_allowlist_only(allowlist_only);
            profile.save(&file).map_err(Failure::other)?;
            Ok(0)
        }
        Command::Policy => {
            write_policy_table(&mut out).map_err(write_failure)?;
            Ok(0)
        }
        Command::Lists(command) => lists::run_lists(command, &mut out),
        Command::Url(command) => lists::run_url(command, &mut out),
        Command::Hash(command) => hashes::run_hash(command, &mut out),
        Command::Parent(ParentCommand::SetPassphrase { data_dir }) => {
            set_passphrase(&data_dir.join("parent.passphrase"), &mut io::stdin().lock())?;
            writeln!(out, "parent passphrase set").map_err(write_failure)?;
            Ok(0)
        }
        Command::Audit(AuditCommand::Verify { data_dir, file }) => {
            let path = file.unwrap_or_else(|| data_dir.join("audit.jsonl"));
            audit_verify(&path, &mut out)
        }
    }
}

/// Reads the current passphrase (when one is set) and the new one from `input`, one per line.
fn set_passphrase(path: &std::path::Path, input: &mut impl io::BufRead) -> Result<(), Failure> {
    let mut read_line = || -> Result<String, Failure> {
        let mut line = String::new();
        input
            .read_line(&mut line)
            .map_err(|e| Failure::input(format!("cannot read the passphrase ({})", e.kind())))?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    };
    if path.exists() {
        let current = read_line()?;
        haven_daemon::auth::ParentAuth::new(path, haven_daemon::config::AuthConfig::default())
            .verify(&current)
            .map_err(|e| Failure::input(format!("the current passphrase is needed first: {e}")))?;
    }
    let new = read_line()?;
    haven_daemon::auth::set_passphrase(path, &new).map_err(|e| match e {
        haven_daemon::auth::AuthError::BadLength => Failure::input(e),
        other => Failure::other(other),
    })
}

fn audit_verify(path: &std::path::Path, out: &mut impl Write) -> Result<u8, Failure> {
    let report = haven_daemon::audit::verify(path)
        .map_err(|e| Failure::input(format!("cannot verify the audit log: {e}")))?;
    for problem in &report.problems {
        writeln!(out, "problem: {problem}").map_err(write_failure)?;
    }
    let range = match (report.first_seq, report.last_seq) {
        (Some(first), Some(last)) => format!(", seq {first}..={last}"),
        _ => String::new(),
    };
    writeln!(
        out,
        "{}: {} records in {} file(s){range}{}",
        if report.is_ok() {
            "intact"
        } else {
            "NOT INTACT"
        },
        report.records,
        report.files,
        if report.first_prev_unverified {
            " (older rotated files were dropped; the chain is checked from the oldest kept)"
        } else {
            ""
        }
    )
    .map_err(write_failure)?;
    Ok(if report.is_ok() { 0 } else { 4 })
}

impl Who {
    fn profile(&self) -> Result<Profile, Failure> {
        let mut profile = match (&self.profile, self.age) {
            (Some(path), _) => Profile::load(path).map_err(Failure::profile)?,
            (None, Some(age)) => {
                Profile::for_age(format!("age {age}"), age).map_err(Failure::profile)?
            }
            (None, None) => Profile::new("default", AgeTier::Under9).map_err(Failure::profile)?,
        };
        if let Some(lang) = &self.lang {
            profile.set_language(parse_language(lang)?);
        }
        if let Some(country) = &self.country {
            profile.set_country(Some(parse_country(country)?));
        }
        Ok(profile)
    }
}

fn parse_language(code: &str) -> Result<Language, Failure> {
    code.parse()
        .map_err(|_| Failure::input("unsupported language (use ar, en, es, fr, ru or zh)"))
}

fn parse_country(code: &str) -> Result<Country, Failure> {
    code.parse()
        .map_err(|_| Failure::input("country must be a two-letter ISO 3166-1 code"))
}

/// The default matrix in the README's format (the README's table is this output, checked by a test).
fn write_policy_table(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "| category | under 9 | 9–12 | 13–15 | 16–17 | adult |")?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for category in Category::ALL {
        write!(out, "| `{}` |", category.id())?;
        for tier in AgeTier::ALL {
            write!(out, " {} |", default_rule(category, tier))?;
        }
        writeln!(out)?;
    }
    Ok(())
}
